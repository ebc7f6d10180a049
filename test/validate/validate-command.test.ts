import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/command.js';
import { validateCommand } from '../../src/cli/commands/validate.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { loadPlanDir, readPlanDir } from '../../src/validate/plan-dir.js';
import { PlanDirError } from '../../src/validate/plan-dir-error.js';
import { writeOraclePlanDir } from '../../sim/oracle-plan.js';
import { SIZE, solidPng, world } from './helpers.js';

function io(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { out: (t) => stdout.push(t), err: (t) => stderr.push(t), tty: false, stdout, stderr };
}

let root: string;
let good: string;
let tshirt: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'keystep-validate-'));
  good = join(root, 'table');
  tshirt = join(root, 'tshirt');
  await writeOraclePlanDir(good, world('aloha-agilex', 'table', 11), { size: SIZE });
  await writeOraclePlanDir(tshirt, world('aloha-agilex', 'tshirt', 12), { size: SIZE });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A copy of the good plan directory with plan.json rewritten and/or files replaced. */
function variant(name: string, edit: (plan: any) => void, files: Record<string, Uint8Array> = {}): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const plan = JSON.parse(readFileSync(join(good, 'plan.json'), 'utf8'));
  for (const f of [...plan.steps.map((s: any) => s.keyframe), plan.observation]) writeFileSync(join(dir, f), readFileSync(join(good, f)));
  edit(plan);
  writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan));
  for (const [f, bytes] of Object.entries(files)) writeFileSync(join(dir, f), bytes);
  return dir;
}

describe('plan directories', () => {
  it('an oracle plan directory round-trips: plan.json names every PNG, the draft carries the bytes', () => {
    const loaded = loadPlanDir(good);
    expect(loaded.plan.format).toBe('keystep.plan/1');
    expect(loaded.plan.robot).toBe('aloha-agilex');
    expect(loaded.draft.steps.length).toBe(12);
    expect(loaded.draft.steps.every((s) => s.keyframe.length > 0)).toBe(true);
    expect(loaded.observation?.length).toBeGreaterThan(0);
  });

  it('loadPlanDir names the file and field of a schema problem; a missing directory is a PlanDirError', () => {
    const bad = variant('bad-schema', (p) => { p.steps[2].instruction = 42; });
    expect(() => loadPlanDir(bad)).toThrow(/plan\.json: steps\[2\]\.instruction/);
    expect(() => loadPlanDir(join(root, 'nope'))).toThrow(PlanDirError);
    const read = readPlanDir(bad);
    expect(read.ok).toBe(false);
    expect(read.issues[0]).toMatchObject({ code: 'schema', step: 2 });
  });
});

describe('keystep validate', () => {
  it('exits 0 on a valid plan and prints exactly { ok, issues } with --json', async () => {
    const out = io();
    expect(await validateCommand.run([good, '--json'], out)).toBe(EXIT.ok);
    const json = JSON.parse(out.stdout.join('\n'));
    expect(Object.keys(json).sort()).toEqual(['issues', 'ok']);
    expect(json.ok).toBe(true);
    expect(json.issues).toEqual([]);
  });

  it('exits 1 on an invalid plan; every issue has exactly code, severity, step, message', async () => {
    const blank = await solidPng([201, 185, 155]);
    const dir = variant('blank', (p) => { p.steps[3].instruction = 'pick up the cup and juggle it'; }, { 'step-04.png': blank });
    const out = io();
    expect(await validateCommand.run([dir, '--json'], out)).toBe(EXIT.failed);
    const json = JSON.parse(out.stdout.join('\n'));
    expect(json.ok).toBe(false);
    for (const i of json.issues) {
      expect(Object.keys(i).sort()).toEqual(['code', 'message', 'severity', 'step']);
      expect(['error', 'warning']).toContain(i.severity);
    }
    expect(json.issues.map((i: any) => [i.code, i.step])).toEqual(expect.arrayContaining([['unparseable', 3], ['keyframe_blank', 4]]));
  });

  it('human output lists each issue; --robot checks the plan against another profile', async () => {
    const out = io();
    expect(await validateCommand.run([tshirt, '--robot', 'franka-fr3'], out)).toBe(EXIT.failed);
    expect(out.stdout[0]).toMatch(/INVALID/);
    expect(out.stdout.join('\n')).toMatch(/bimanual_unsupported/);
    const ok = io();
    expect(await validateCommand.run([tshirt], ok)).toBe(EXIT.ok);
    expect(ok.stdout[0]).toMatch(/valid \(0 errors/);
  });

  it('missing PNGs make an invalid plan (1); a plan.json that breaks the format, an unreadable directory or bad JSON is a bad input file (3)', async () => {
    const schema = io();
    expect(await validateCommand.run([variant('no-format', (p) => { delete p.format; }), '--json'], schema)).toBe(EXIT.config);
    expect(JSON.parse(schema.stdout[0]!).issues[0].code).toBe('schema');
    expect(schema.stderr.join('\n')).toMatch(/does not follow the plan format/);
    const missing = io();
    expect(await validateCommand.run([variant('missing-png', (p) => { p.steps[1].keyframe = 'gone.png'; }), '--json'], missing)).toBe(EXIT.failed);
    expect(JSON.parse(missing.stdout[0]!).issues.map((i: any) => i.code)).toContain('missing_keyframe');
    const absent = io();
    expect(await validateCommand.run([join(root, 'does-not-exist')], absent)).toBe(EXIT.config);
    expect(absent.stderr[0]).toMatch(/cannot read .*plan\.json/);
    const dir = join(root, 'not-json');
    mkdirSync(dir);
    writeFileSync(join(dir, 'plan.json'), '{ "format": ');
    const notJson = io();
    expect(await validateCommand.run([dir], notJson)).toBe(EXIT.config);
    expect(notJson.stderr[0]).toMatch(/not valid JSON/);
  });

  it('a usage mistake is a UsageError (main turns it into exit 2)', async () => {
    await expect(validateCommand.run([], io())).rejects.toThrow(/exactly one plan directory/);
    await expect(validateCommand.run([good, '--bogus'], io())).rejects.toThrow(/bogus/);
  });
});
