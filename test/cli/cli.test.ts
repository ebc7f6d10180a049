import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/command.js';
import { main } from '../../src/cli/main.js';
import { RunLog } from '../../src/executor/index.js';
import { RolloutResult } from '../../src/run/rollout.js';

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), tty: false };
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('keystep CLI', () => {
  it('lists its commands; an unknown command or no command is a usage error', async () => {
    expect((await cli('--help')).code).toBe(0);
    expect((await cli('--help')).out).toMatch(/rollout.*\n.*sim/s);
    expect((await cli()).code).toBe(2);
    const unknown = await cli('fly');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('unknown command "fly"');
  });

  it('gives every command a --help', async () => {
    for (const name of ['demo', 'plan', 'run', 'rollout', 'sim', 'doctor', 'sheet', 'validate', 'bench']) {
      const r = await cli(name, '--help');
      expect(r.code, name).toBe(0);
      expect(r.out).toContain(`keystep ${name}`);
    }
  });

  it('names the bad flag and exits 2', async () => {
    const unknownFlag = await cli('sim', '--robot', 'aloha-agilex', '--scene', 'tshirt', '--colour', 'red');
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.err).toMatch(/--colour/);
    const badRate = await cli('sim', '--robot', 'aloha-agilex', '--scene', 'tshirt', '--miss-rate', '1.5');
    expect(badRate.code).toBe(2);
    expect(badRate.err).toContain('--miss-rate must be a number from 0 to 1, got "1.5"');
    const badScene = await cli('rollout', '--robot', 'aloha-agilex', '--scene', 'kitchen');
    expect(badScene.err).toContain('--scene must be one of tshirt, table, got "kitchen"');
    const badDraws = await cli('rollout', '--robot', 'agibot-g1', '--scene', 'table', '--missed-draws', '0');
    expect(badDraws.code).toBe(2);
    expect(badDraws.err).toContain('--missed-draws');
    const badPasses = await cli('rollout', '--robot', 'agibot-g1', '--scene', 'table', '--passes', '0');
    expect(badPasses.code).toBe(2);
    expect(badPasses.err).toContain('--passes');
    const badSettle = await cli('bench', '--settle-ms', '-5');
    expect(badSettle.code).toBe(2);
    expect(badSettle.err).toContain('--settle-ms');
    const missing = await cli('run', '--task', 'fold the t-shirt');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--robot is required');
    const badUrl = await cli('run', '--robot', 'aloha-agilex', '--task', 'x', '--rosbridge', 'http://x');
    expect(badUrl.err).toContain('--rosbridge must be a ws://');
  });

  it('exits 3 for a profile or task it cannot use, naming the file or the task', async () => {
    const noRobot = await cli('sheet', '--robot', 'r2d2', '--scene', 'table');
    expect(noRobot.code).toBe(3);
    expect(noRobot.err).toContain('r2d2.json');
    const dir = mkdtempSync(join(tmpdir(), 'keystep-cli-'));
    const broken = join(dir, 'broken.json');
    const raw = JSON.parse(readFileSync('robots/aloha-agilex.json', 'utf8'));
    raw.id = 'broken';
    raw.arms[0].dof = -1;
    writeFileSync(broken, JSON.stringify(raw));
    const bad = await cli('sheet', '--robot', broken, '--scene', 'table');
    expect(bad.code).toBe(3);
    expect(bad.err).toContain('arms[0].dof');
    const task = await cli('sheet', '--robot', 'aloha-agilex', '--scene', 'table', '--task', 'paint the fence');
    expect(task.code).toBe(3);
    expect(task.err).toContain('clear the table');
    const oneArm = await cli('sheet', '--robot', 'franka-fr3', '--scene', 'tshirt');
    expect(oneArm.code).toBe(3);
  });

  it('exits 4 when nothing answers at the rosbridge URL', async () => {
    const r = await cli('run', '--robot', 'aloha-agilex', '--task', 'fold the t-shirt', '--rosbridge', 'ws://127.0.0.1:1', '--connect-timeout', '800', '--runs', mkdtempSync(join(tmpdir(), 'keystep-cli-')));
    expect(r.code).toBe(4);
    expect(r.err).toContain('could not connect to rosbridge at ws://127.0.0.1:1');
  }, 30_000);

  it('rollout --json prints exactly one object with the documented fields', async () => {
    const runs = mkdtempSync(join(tmpdir(), 'keystep-rollout-'));
    const r = await cli('rollout', '--robot', 'agibot-g1', '--scene', 'table', '--task', 'throw away the napkin', '--episodes', '3', '--miss-rate', '0.3', '--seed', '11', '--backend', 'oracle', '--runs', runs, '--json');
    expect(r.code).toBe(0);
    const result = RolloutResult.strict().parse(JSON.parse(r.out));
    expect(result.episodes).toBe(3);
    expect(result.successes).toBe(3);
    expect(result.steps).toBeGreaterThanOrEqual(6);
    expect(result.replans).toBe(result.misses);
    // Every episode gets its contact sheet: the observation, one tile per dispatched step, the end.
    const [rolloutDir] = readdirSync(runs).filter((d) => d.startsWith('rollout-'));
    for (const ep of ['ep0000', 'ep0001', 'ep0002']) {
      const meta = await sharp(join(runs, rolloutDir!, ep, 'sheet.png')).metadata();
      expect(meta.format).toBe('png');
      expect(meta.height).toBeGreaterThan(200);
    }
  });

  it('sheet writes a contact sheet PNG', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'keystep-sheet-')), 'sheet.png');
    const r = await cli('sheet', '--robot', 'aloha-stanford', '--scene', 'tshirt', '--seed', '4', '--out', out);
    expect(r.code).toBe(0);
    const meta = await sharp(out).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBeGreaterThan(1000);
  });

  it('plan writes plan.json, one keyframe per step, the observation and a contact sheet, and validates it', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'keystep-plan-')), 'p');
    const r = await cli('plan', '--robot', 'agibot-g1', '--task', 'clear the table', '--scene', 'table', '--seed', '3', '--backend', 'oracle', '--out', out, '--json');
    expect(r.code, r.err).toBe(0);
    const printed = JSON.parse(r.out) as { dir: string; plan: { steps: { keyframe: string }[] }; validation: { ok: boolean; issues: unknown[] } };
    expect(printed.plan.steps).toHaveLength(12);
    expect(printed.validation).toEqual({ ok: true, issues: [], incomplete: false });
    for (const step of printed.plan.steps) expect((await sharp(join(out, step.keyframe)).metadata()).format).toBe('png');
    expect((await sharp(join(out, 'sheet.png')).metadata()).width).toBeGreaterThan(1000);
    const onImage = await cli('plan', '--robot', 'agibot-g1', '--task', 'clear the table', '--image', join(out, 'step-00.png'), '--backend', 'oracle');
    expect(onImage.code).toBe(2);
    expect(onImage.err).toContain('oracle backend plans from the simulator state');
  });

  it('plan --backend oracle-vq writes the oracle plan with keyframes drawn by the tokenizer, at the keyframe camera\'s size', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keystep-plan-'));
    const r = await cli('plan', '--robot', 'agibot-g1', '--task', 'clear the table', '--scene', 'table', '--seed', '3', '--backend', 'oracle-vq', '--out', join(dir, 'vq'), '--json');
    expect(r.code, r.err).toBe(0);
    const printed = JSON.parse(r.out) as { plan: { backend: string; steps: { instruction: string; keyframe: string }[] }; validation: { ok: boolean } };
    expect(printed.plan.backend).toBe('oracle-vq');
    expect(printed.plan.steps).toHaveLength(12);
    expect(printed.validation.ok).toBe(true);
    const { width, height } = await sharp(join(dir, 'vq', printed.plan.steps[0]!.keyframe)).metadata();
    expect([width, height]).toEqual([640, 480]);
    const onImage = await cli('plan', '--robot', 'agibot-g1', '--task', 'clear the table', '--image', join(dir, 'vq', 'observation.png'), '--backend', 'oracle-vq');
    expect(onImage.code).toBe(2);
    expect(onImage.err).toContain('oracle-vq backend plans from the simulator state');
  });

  it('plan runs the embedded model on any image file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keystep-plan-'));
    const world = await cli('plan', '--robot', 'aloha-agilex', '--task', 'fold the t-shirt', '--scene', 'tshirt', '--backend', 'oracle', '--out', join(dir, 'o'));
    expect(world.code).toBe(0);
    const r = await cli('plan', '--robot', 'aloha-agilex', '--task', 'fold the t-shirt', '--image', join(dir, 'o', 'observation.png'), '--out', join(dir, 'm'), '--json');
    expect(r.code, r.err).toBe(0);
    const printed = JSON.parse(r.out) as { plan: { backend: string; steps: { instruction: string; keyframe: string }[] } };
    expect(printed.plan.backend).toBe('onnx');
    expect(printed.plan.steps.length).toBeGreaterThan(0);
    // The keyframes are at the keyframe camera's 640x480, not the model's 128x96: 5x5 blocks of one
    // colour (nearest-neighbour), so no colour the palette does not have.
    const { data, info } = await sharp(join(dir, 'm', printed.plan.steps[0]!.keyframe)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([640, 480]);
    let offBlock = 0;
    for (let y = 0; y < 480; y++) for (let x = 0; x < 640; x++) for (let c = 0; c < 3; c++) offBlock += data[(y * 640 + x) * 3 + c] === data[((y - (y % 5)) * 640 + (x - (x % 5))) * 3 + c] ? 0 : 1;
    expect(offBlock).toBe(0);
  });

  it('demo (npm start) and rollout plan with the embedded world model unless told otherwise', async () => {
    const runs = mkdtempSync(join(tmpdir(), 'keystep-demo-'));
    const demo = await cli('demo', '--runs', runs, '--miss-rate', '0');
    // 0 = the fold succeeded, 1 = it did not: both are runs; the model's success rate is measured by
    // rollouts on held-out seeds, not asserted here.
    expect([0, 1], demo.err).toContain(demo.code);
    expect(demo.out).toContain('planner backend: onnx');
    const [runId] = readdirSync(runs);
    const { events } = RunLog.open(runs, runId!).readEvents();
    const started = events.find((e) => e.type === 'run_started');
    expect(started?.type === 'run_started' && started.backend).toBe('onnx');
    expect(events.filter((e) => e.type === 'step_dispatched').length).toBeGreaterThan(0);
    expect((await sharp(join(runs, runId!, 'sheet.png')).metadata()).format).toBe('png');

    const rolled = await cli('rollout', '--robot', 'aloha-agilex', '--scene', 'tshirt', '--episodes', '1', '--seed', '100000', '--passes', '3', '--runs', runs, '--json');
    expect(rolled.code, rolled.err).toBe(0);
    const summaryDir = readdirSync(runs).find((d) => d.startsWith('rollout-'));
    const summary = JSON.parse(readFileSync(join(runs, summaryDir!, 'summary.json'), 'utf8')) as { options: { backend: string; missedDraws: number; passes: number } };
    expect(summary.options.backend).toBe('onnx');
    expect(summary.options.missedDraws).toBe(1);
    expect(summary.options.passes).toBe(3);
  }, 120_000);

  it('--model and --devices choose the embedded model; a bad model directory names the file and exits 3', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'keystep-model-'));
    const ask = (...extra: string[]) => cli('plan', '--robot', 'aloha-agilex', '--task', 'fold the t-shirt', '--scene', 'tshirt', '--out', join(tmp, 'out'), ...extra);
    const missing = await ask('--model', join(tmp, 'nowhere'));
    expect(missing.code).toBe(3);
    expect(missing.err).toContain(`${join(tmp, 'nowhere', 'spec.json')} not found`);
    expect(missing.err).toContain('--model');

    // A directory whose spec is fine but whose transformer is cut off (as a failed copy leaves it).
    const cut = join(tmp, 'cut');
    mkdirSync(cut);
    for (const f of ['spec.json', 'palette_pixels.onnx']) copyFileSync(join('models', f), join(cut, f));
    writeFileSync(join(cut, 'palette_transformer.onnx'), readFileSync(join('models', 'palette_transformer.onnx')).subarray(0, 4096));
    const broken = await ask('--model', cut);
    expect(broken.code).toBe(3);
    expect(broken.err).toContain(`could not load ${join(cut, 'palette_transformer.onnx')} on cpu`);

    const badDevice = await ask('--devices', 'cpu,gpu0');
    expect(badDevice.code).toBe(2);
    expect(badDevice.err).toContain('--devices: "gpu0"');

    // Two CPU sessions from an explicit directory plan as one does.
    const pooled = await ask('--model', 'models', '--devices', 'cpu,cpu', '--json');
    expect(pooled.code, pooled.err).toBe(0);
    const one = await ask('--json');
    const steps = (r: { out: string }) => (JSON.parse(r.out) as { plan: { steps: { instruction: string }[] } }).plan.steps.map((x) => x.instruction);
    expect(steps(pooled)).toEqual(steps(one));
  }, 60_000);

  it('bench --json prints AR and DiDA figures and their speedup as one JSON object, its progress on stderr', async () => {
    const r = await cli('bench', '--json', '--transitions', '1', '--plans', '1', '--passes', '2', '--settle-ms', '0');
    expect(r.code, r.err).toBe(0);
    expect(r.out.split('\n')).toHaveLength(1);
    const result = JSON.parse(r.out);
    // What it measures and how far it got, phase by phase, 2 held-out transitions (1 per scene).
    for (const phase of ['encoding 2 held-out transitions', 'AR warm-up keyframes (untimed) 2/2', 'timed keyframes, AR and DiDA in turn 2/2', 'DiDA 7-step T-shirt plans 1/1', 'sim controller on the DiDA keyframes 2/2']) {
      expect(r.err).toContain(`bench: ${phase}`);
    }
    for (const sampler of ['ar', 'dida']) {
      expect(result[sampler]).toEqual({ keyframeP50Ms: expect.any(Number), planP50Ms: expect.any(Number), tokenAccuracy: expect.any(Number) });
    }
    expect(result.speedup).toBeCloseTo(result.ar.keyframeP50Ms / result.dida.keyframeP50Ms, 1);
    expect(result.inputs.settleMs).toBe(0);
  }, 300_000);

  it('runs from the compiled dist/ (catches imports that only resolve in TypeScript)', () => {
    const r = spawnSync(process.execPath, ['bin/keystep.js', 'sim', '--help'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('keystep sim --robot');
  });
});
