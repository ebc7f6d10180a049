// The CUDA install of onnxruntime-node, on request only. package.json's allowScripts denies
// onnxruntime-node's own install script, which on linux/x64 would otherwise download the CUDA
// provider from NuGet on every install (and fail offline); so a plain `npm ci` downloads nothing.
// Asked for with `npm ci --onnxruntime-node-install=cuda12` (npm hands the flag to install scripts as
// npm_config_onnxruntime_node_install) or ONNXRUNTIME_NODE_INSTALL=cuda12, this runs that script,
// which reads the same two settings.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const flag = process.env.ONNXRUNTIME_NODE_INSTALL || process.env.npm_config_onnxruntime_node_install;
if (!flag || flag === 'skip' || flag === 'false') process.exit(0);
const script = createRequire(import.meta.url).resolve('onnxruntime-node/script/install.js');
const root = dirname(dirname(script));
console.log(`onnxruntime-node: install "${flag}" (${script})`);
// Run it as npm runs a dependency's install script: from its folder, with npm_package_json naming its
// package.json. Under ours, the script takes itself for a local build of onnxruntime-node and exits.
const run = spawnSync(process.execPath, [script], { stdio: 'inherit', cwd: root, env: { ...process.env, npm_package_json: join(root, 'package.json') } });
process.exit(run.status ?? 1);
