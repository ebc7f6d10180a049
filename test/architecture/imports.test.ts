import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layout's rules, checked on the source: dependencies point one way (the task domain and the
 * planning core never load the simulator), the pure core stays free of I/O packages, and no module
 * depends on itself through others.
 */
const ROOT = resolve(import.meta.dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The modules a file imports: repository-relative .ts paths for local ones, package names otherwise. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => {
    const spec = (m[1] ?? m[2] ?? m[3])!;
    if (!spec.startsWith('.')) return spec;
    return relative(ROOT, resolve(dirname(join(ROOT, file)), spec)).replace(/\.js$/, '.ts');
  });
}

const SRC = sourceFiles('src');
const GRAPH = new Map([...SRC, ...sourceFiles('sim')].map((f) => [f, importsOf(f)]));

describe('layout', () => {
  it('the task domain, validator, model, executor and planner never import the simulator', () => {
    const guarded = ['src/scenes/', 'src/schema/', 'src/validate/', 'src/model/', 'src/executor/', 'src/planner/', 'src/ros/', 'src/rosbridge/', 'src/util/', 'src/image/', 'src/profile/', 'src/errors/'];
    const offenders = SRC.filter((f) => guarded.some((g) => f.startsWith(g))).flatMap((f) =>
      GRAPH.get(f)!.filter((i) => i.startsWith('sim/')).map((i) => `${f} -> ${i}`),
    );
    expect(offenders).toEqual([]);
  });

  it('src/scenes is pure: no pictures, sockets, files or ONNX', () => {
    const io = ['sharp', 'ws', 'roslib', 'onnxruntime-node', 'node:fs', 'node:net', 'node:http', 'fs'];
    const offenders = SRC.filter((f) => f.startsWith('src/scenes/')).flatMap((f) =>
      GRAPH.get(f)!.filter((i) => io.includes(i) || (!i.startsWith('src/') && !i.startsWith('sim/') && !i.startsWith('zod'))).map((i) => `${f} -> ${i}`),
    );
    expect(offenders).toEqual([]);
  });

  it('src/scenes depends only on the schema and util, never on the validator or the executor', () => {
    const allowed = ['src/scenes/', 'src/schema/', 'src/util/'];
    const offenders = SRC.filter((f) => f.startsWith('src/scenes/')).flatMap((f) =>
      GRAPH.get(f)!.filter((i) => i.startsWith('src/') && !allowed.some((a) => i.startsWith(a))).map((i) => `${f} -> ${i}`),
    );
    expect(offenders).toEqual([]);
  });

  it('the CLI entry loads a command only when it runs: main.ts imports no command module up front', () => {
    const upFront = [...readFileSync(join(ROOT, 'src/cli/main.ts'), 'utf8').matchAll(/^\s*import\b[^'"]*?from\s*['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
    expect(upFront.filter((spec) => spec.includes('/commands/'))).toEqual([]);
    // Every command is still reachable, through its loader.
    expect(importsOf('src/cli/main.ts').filter((i) => i.startsWith('src/cli/commands/')).length).toBeGreaterThanOrEqual(13);
  });

  it('no import circle among the modules of src/ and sim/ (type-only imports included)', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 'open');
      stack.push(f);
      for (const dep of GRAPH.get(f) ?? []) {
        if (!GRAPH.has(dep)) continue;
        if (state.get(dep) === 'open') cycles.push([...stack.slice(stack.indexOf(dep)), dep].join(' -> '));
        else if (!state.has(dep)) visit(dep);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of GRAPH.keys()) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('the checks above see the code: the graph covers both folders and finds known edges', () => {
    expect(GRAPH.size).toBeGreaterThan(100);
    expect(GRAPH.get('sim/world.ts')).toContain('src/scenes/registry.ts');
  });
});
