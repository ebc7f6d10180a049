// The CLI from the source tree, as its own process (`node --import tsx test/helpers/keystep-src.ts ...`):
// for tests that must kill a keystep process without depending on a fresh `npm run build`.
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
