// Builds the web view (web/) into dist/web: one bundled, minified app.js with its CSS and page.
// Run by `npm run build` (and so by `npm ci`'s prepare); nothing is fetched at run time.
// A service may be serving dist/web while this runs (a rebuild beside a running `keystep serve`, or
// the test suite's services): each file is written beside its place and renamed over it, so a page
// load gets the old file or the new one, never a missing or half-written one.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');
mkdirSync(out, { recursive: true });
const staging = mkdtempSync(join(root, 'dist', '.web-'));
try {
  await build({
    entryPoints: [join(root, 'web', 'main.ts')],
    outfile: join(staging, 'app.js'),
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'app.css']) copyFileSync(join(root, 'web', file), join(staging, file));
  for (const file of readdirSync(staging)) renameSync(join(staging, file), join(out, file));
} finally {
  rmSync(staging, { recursive: true, force: true });
}
