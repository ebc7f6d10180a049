import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root (where package.json is), found by walking up from this module, so it works both
 * from source (tsx, vitest) and from the compiled dist/ tree.
 */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'robots'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('keystep: cannot find the package root (package.json next to robots/)');
    dir = up;
  }
}

export const PACKAGE_ROOT = findRoot();
export const ROBOTS_DIR = join(PACKAGE_ROOT, 'robots');
export const MODELS_DIR = join(PACKAGE_ROOT, 'models');
