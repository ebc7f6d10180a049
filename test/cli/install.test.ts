import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

/*
 * The install as the README describes it. A real `npm ci` takes minutes and, with the CUDA flag, the
 * network; those were checked by hand in a copy of the repository (see the commit). These pin the
 * parts that decide it: npm reads no unknown project setting, onnxruntime-node's own installer never
 * runs, and keystep's postinstall runs it only when asked.
 */
describe('npm install', () => {
  it('npm calls in the project print no "Unknown project config" warning', () => {
    const r = spawnSync('npm', ['pkg', 'get', 'name'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'warn' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('"keystep"');
    expect(r.stderr).not.toContain('Unknown project config');
    expect(existsSync(join(ROOT, '.npmrc'))).toBe(false);
  });

  it("denies onnxruntime-node's own installer, which downloads the CUDA provider on linux/x64 when it runs unasked", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { allowScripts: Record<string, boolean>; scripts: Record<string, string> };
    expect(pkg.allowScripts['onnxruntime-node']).toBe(false);
    expect(pkg.scripts.postinstall).toBe('node scripts/onnxruntime-install.mjs');
  });

  it('keystep\'s postinstall does nothing unless --onnxruntime-node-install or ONNXRUNTIME_NODE_INSTALL asks', () => {
    const env = { ...process.env };
    delete env.ONNXRUNTIME_NODE_INSTALL;
    delete env.npm_config_onnxruntime_node_install;
    for (const extra of [{}, { ONNXRUNTIME_NODE_INSTALL: 'skip' }, { npm_config_onnxruntime_node_install: 'skip' }]) {
      const r = spawnSync(process.execPath, ['scripts/onnxruntime-install.mjs'], { cwd: ROOT, encoding: 'utf8', env: { ...env, ...extra } });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).toBe('');
    }
  });
});
