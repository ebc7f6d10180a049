import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';

/**
 * Builds the web view once, before any file runs: the browser suites serve dist/web from several
 * services at once, so no suite rebuilds it while another one's page is loading.
 */
export default function setup(): void {
  const root = resolve(import.meta.dirname, '..');
  execFileSync(process.execPath, [join(root, 'scripts', 'build-web.mjs')], { stdio: 'inherit' });
}
