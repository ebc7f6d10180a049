/**
 * AR vs DiDA keyframe decoding on the embedded world model, same model and same held-out inputs, one
 * run. The same measurement as `keystep bench`, kept here so every benchmark lives under bench/.
 *
 *   npx tsx bench/model.ts [--json] [--passes 4] [--transitions 12] [--plans 3] [--devices cpu,cpu] [--dir models]
 */
import { main } from '../src/cli/main.js';

process.exitCode = await main(['bench', ...process.argv.slice(2)]);
