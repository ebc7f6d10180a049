import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profile/load.js';
import { SimRobot } from '../../sim/robot-node.js';
import { CliProcess, ROOT, cli } from '../helpers/cli.js';

const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), `keystep-${prefix}-`));
const robots: SimRobot[] = [];
afterEach(async () => {
  await Promise.all(robots.splice(0).map((r) => r.close()));
});
/** No stack frames: a person sees one message, not the inside of keystep. */
const STACK = /^\s+at .+\(.*:\d+:\d+\)$|^\s+at .+:\d+:\d+$/m;

describe('bad input reads as bad input, not as a crash', () => {
  it('plan --image with an empty, cut-off or non-image file names the file and exits 3, with no stack unless --debug', async () => {
    const dir = tmp('image');
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 40, b: 40 } } }).png().toBuffer();
    const files = { empty: join(dir, 'empty.png'), cut: join(dir, 'cut.png'), text: join(dir, 'notes.png'), missing: join(dir, 'missing.png') };
    writeFileSync(files.empty, '');
    writeFileSync(files.cut, png.subarray(0, Math.floor(png.length / 2)));
    writeFileSync(files.text, 'this is not a picture\n');
    const plan = (image: string, ...extra: string[]) => cli('plan', '--robot', 'aloha-agilex', '--task', 'fold the t-shirt', '--image', image, '--out', join(dir, 'out'), ...extra);
    const expected: Record<keyof typeof files, RegExp> = { empty: /is empty \(0 bytes\)/, cut: /is damaged or cut off/, text: /is not an image keystep can read/, missing: /cannot read .*\(ENOENT\)/ };
    for (const [name, file] of Object.entries(files) as [keyof typeof files, string][]) {
      const r = await plan(file);
      expect(r.code, `${name}: ${r.err}`).toBe(3);
      expect(r.err).toContain(file);
      expect(r.err).toMatch(expected[name]);
      expect(r.err).toContain("give a PNG, JPEG or WebP picture from the robot's keyframe camera");
      expect(r.err).not.toMatch(STACK);
      expect(r.err).not.toContain('Please report');
    }
    const debug = await plan(files.cut, '--debug');
    expect(debug.code).toBe(3);
    expect(debug.err).toMatch(STACK);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('sim --host with an address it cannot bind exits 4 with the address and the fix, no stack', async () => {
    // 192.0.2.1 is TEST-NET-1: never an address of this machine.
    const r = await cli('sim', '--robot', 'aloha-agilex', '--scene', 'tshirt', '--host', '192.0.2.1', '--port', '0');
    expect(r.code).toBe(4);
    expect(r.err).toContain('cannot listen on 192.0.2.1:0: 192.0.2.1 is not an address of this machine');
    expect(r.err).toContain('--host 127.0.0.1');
    expect(r.err).not.toMatch(STACK);
    const unknown = await cli('sim', '--robot', 'aloha-agilex', '--scene', 'tshirt', '--host', 'no-such-host.invalid', '--port', '0');
    expect(unknown.code).toBe(4);
    expect(unknown.err).toContain('"no-such-host.invalid" is not a host name or address this machine can resolve');
    expect(unknown.err).not.toMatch(STACK);
  });
});

describe('outputs stay under runs/ unless told otherwise', () => {
  it('plan writes under runs/plans/ by default, never over the shipped plans/; sheet writes under runs/sheets/, never into docs/', async () => {
    // A working folder with the repository's plans/ and docs/ in it, as a user's checkout has.
    const work = tmp('outputs');
    cpSync(join(ROOT, 'plans'), join(work, 'plans'), { recursive: true });
    cpSync(join(ROOT, 'docs'), join(work, 'docs'), { recursive: true });
    const shipped = join(work, 'plans', 'agibot-g1-table-seed0-oracle', 'sheet.png');
    const before = readFileSync(shipped);
    const docsBefore = readdirSync(join(work, 'docs')).sort();

    const plan = new CliProcess(['plan', '--robot', 'agibot-g1', '--task', 'clear the table', '--scene', 'table', '--seed', '0', '--backend', 'oracle'], { cwd: work });
    expect((await plan.exited).code, plan.stderr).toBe(0);
    expect(readFileSync(shipped).equals(before)).toBe(true);
    expect(plan.stdout).toContain('wrote runs/plans/agibot-g1-table-seed0-oracle/plan.json');
    expect(existsSync(join(work, 'runs', 'plans', 'agibot-g1-table-seed0-oracle', 'sheet.png'))).toBe(true);

    const sheet = new CliProcess(['sheet', '--robot', 'aloha-agilex', '--scene', 'tshirt', '--seed', '0'], { cwd: work });
    expect((await sheet.exited).code, sheet.stderr).toBe(0);
    expect(readdirSync(join(work, 'docs')).sort()).toEqual(docsBefore);
    expect(sheet.stdout).toContain('wrote runs/sheets/tshirt-aloha-agilex-seed0.png');
    expect((await sharp(join(work, 'runs', 'sheets', 'tshirt-aloha-agilex-seed0.png')).metadata()).format).toBe('png');
  }, 60_000);

  it('--run-id and --resume are run ids inside the runs folder: "..", "." or a path is a usage error (2)', async () => {
    // The runs folder inside a fresh folder: a run id that escaped it would leave a log beside it.
    const runs = join(tmp('runid'), 'runs');
    for (const id of ['..', '.', '../escape', 'a/b', '.hidden', '/tmp/x']) {
      const r = await cli('run', '--robot', 'aloha-agilex', '--task', 'fold the t-shirt', '--run-id', id, '--runs', runs, '--rosbridge', 'ws://127.0.0.1:1', '--connect-timeout', '100');
      expect(r.code, `${id}: ${r.err}`).toBe(2);
      expect(r.err).toContain('--run-id must be a run id');
      const resume = await cli('run', '--resume', id, '--runs', runs);
      expect(resume.code, `--resume ${id}: ${resume.err}`).toBe(2);
    }
    expect(existsSync(join(runs, '..', 'events.jsonl'))).toBe(false);
  });
});

describe('exit codes as the README table says', () => {
  it('plan exits 1 when the plan it wrote is INVALID', async () => {
    // A profile that allows at most 3 steps: the oracle's 12-step table plan breaks it.
    const dir = tmp('invalid');
    const raw = JSON.parse(readFileSync(join(ROOT, 'robots', 'agibot-g1.json'), 'utf8'));
    raw.id = 'short';
    raw.limits.maxSteps = 3;
    raw.limits.minSteps = 1;
    writeFileSync(join(dir, 'short.json'), JSON.stringify(raw));
    const r = await cli('plan', '--robot', join(dir, 'short.json'), '--task', 'clear the table', '--scene', 'table', '--backend', 'oracle', '--out', join(dir, 'p'));
    expect(r.code, r.err).toBe(1);
    expect(r.out).toContain('INVALID');
    expect(r.out).toContain('step_count');
    expect(existsSync(join(dir, 'p', 'plan.json'))).toBe(true);
  });

  it('validate exits 3 for a plan.json that breaks the plan format', async () => {
    const dir = join(tmp('schema'), 'plan');
    cpSync(join(ROOT, 'plans', 'agibot-g1-table-seed0-oracle'), dir, { recursive: true });
    const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8'));
    plan.steps[2].index = 'three';
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan));
    const r = await cli('validate', dir);
    expect(r.code).toBe(3);
    expect(r.err).toContain('steps[2].index');
  });
});

describe('version, runs and report', () => {
  it('keystep --version prints the version from package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await cli('--version');
    expect(r.code).toBe(0);
    expect(r.out).toBe(`keystep ${version}`);
  });

  it('keystep runs lists runs with their outcome; keystep report prints one and writes its sheet', async () => {
    const profile = loadProfile('aloha-agilex');
    const robot = await SimRobot.start({ profile, scene: 'tshirt', task: 'fold the t-shirt', seed: 5, missRate: 0, port: 0, stepMs: 0 });
    robots.push(robot);
    const runs = tmp('runs');
    const run = (id: string) => cli('run', '--robot', 'aloha-agilex', '--task', 'fold the t-shirt', '--backend', 'oracle', '--rosbridge', robot.url, '--runs', runs, '--run-id', id);
    expect((await run('first')).code).toBe(0);
    expect((await run('second')).code).toBe(5);
    // A run killed before its end: no finished record.
    cpSync(join(runs, 'first'), join(runs, 'killed'), { recursive: true });
    const events = readFileSync(join(runs, 'killed', 'events.jsonl'), 'utf8').trimEnd().split('\n');
    writeFileSync(join(runs, 'killed', 'events.jsonl'), `${events.slice(0, -3).join('\n')}\n`);

    const listed = await cli('runs', '--runs', runs, '--json');
    expect(listed.code, listed.err).toBe(0);
    const rows = JSON.parse(listed.out) as { id: string; state: string; task: string; steps: unknown[] }[];
    expect(Object.fromEntries(rows.map((r) => [r.id, r.state]))).toEqual({ first: 'succeeded', second: 'nothing_to_do', killed: 'unfinished' });
    expect(rows.every((r) => r.task === 'fold the t-shirt')).toBe(true);
    const text = await cli('runs', '--runs', runs);
    expect(text.out).toMatch(/^first .*SUCCEEDED/m);
    expect(text.out).toMatch(/^second .*NOTHING TO DO/m);

    const report = await cli('report', 'first', '--runs', runs, '--json');
    expect(report.code, report.err).toBe(0);
    const printed = JSON.parse(report.out) as { state: string; steps: { status: string }[]; sheet: string };
    expect(printed.state).toBe('succeeded');
    expect(printed.steps.length).toBeGreaterThan(0);
    expect(printed.sheet).toBe(join(runs, 'first', 'sheet.png'));
    expect((await sharp(printed.sheet).metadata()).format).toBe('png');
    const human = await cli('report', join(runs, 'killed'));
    expect(human.code, human.err).toBe(0);
    expect(human.out).toContain('UNFINISHED');
    const missing = await cli('report', 'nope', '--runs', runs);
    expect(missing.code).toBe(3);
    expect(missing.err).toContain('no run "nope"');
  }, 60_000);
});
