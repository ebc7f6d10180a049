/**
 * Writes JSON Schema files next to the data they describe, so editors check profiles and plans as
 * they are typed, and the robot messages into robot-kit/schemas/ for robot nodes in any language.
 * Run after changing a schema: `npm run export-schemas` (a test checks they are fresh).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { schemaDocuments } from '../src/schema/json-schema.js';
import { PACKAGE_ROOT } from '../src/paths.js';

for (const doc of schemaDocuments()) {
  mkdirSync(dirname(join(PACKAGE_ROOT, doc.file)), { recursive: true });
  writeFileSync(join(PACKAGE_ROOT, doc.file), `${JSON.stringify(doc.schema, null, 2)}\n`);
  console.log(`wrote ${doc.file}`);
}
