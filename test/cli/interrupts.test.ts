import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { RunLog } from '../../src/executor/index.js';
import { loadProfile } from '../../src/profile/load.js';
import { SimRobot } from '../../sim/robot-node.js';
import { CliProcess } from '../helpers/cli.js';

/*
 * Ctrl-C through the compiled CLI (`npm run build` first), as a person at a terminal sends it: a real
 * SIGINT to a real process, exit status 130 everywhere, and every run log ended with `finished`.
 */

const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), `keystep-${prefix}-`));
const children: CliProcess[] = [];
const robots: SimRobot[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  await Promise.all(robots.splice(0).map((r) => r.close()));
});
const start = (...argv: string[]) => {
  const c = new CliProcess(argv);
  children.push(c);
  return c;
};

describe('Ctrl-C', () => {
  it('demo (npm start) aborts like run: the step in flight cancelled, a finished record, the sheet written, exit 130', async () => {
    const runs = tmp('demo-int');
    const demo = start('demo', '--backend', 'oracle', '--miss-rate', '0', '--runs', runs);
    await demo.waitFor(/step +0 .*-> done/);
    demo.interrupt();
    const { code } = await demo.exited;
    expect(code, demo.stdout + demo.stderr).toBe(130);
    expect(demo.stderr).toContain('aborting');
    const [runId] = readdirSync(runs);
    const { events } = RunLog.open(runs, runId!).readEvents();
    const finished = events.at(-1);
    expect(finished?.type === 'finished' && finished.report.outcome).toBe('aborted');
    expect(demo.stdout).toContain('ABORTED');
    expect((await sharp(join(runs, runId!, 'sheet.png')).metadata()).format).toBe('png');
  }, 90_000);

  it('run: the robot is told to cancel the step in flight, the log ends as aborted, exit 130', async () => {
    const profile = loadProfile('aloha-agilex');
    // Slow steps: the first one is still running when Ctrl-C comes.
    const simLog: string[] = [];
    const robot = await SimRobot.start({ profile, scene: 'tshirt', task: 'fold the t-shirt', seed: 1, missRate: 0, port: 0, stepMs: 20_000, log: (l) => simLog.push(l) });
    robots.push(robot);
    const runs = tmp('run-int');
    const run = start('run', '--robot', 'aloha-agilex', '--task', 'fold the t-shirt', '--backend', 'oracle', '--rosbridge', robot.url, '--runs', runs, '--run-id', 'r');
    const log = join(runs, 'r', 'events.jsonl');
    for (let t = Date.now(); !(existsSync(log) && readFileSync(log, 'utf8').includes('"step_dispatched"')); ) {
      if (Date.now() - t > 30_000) throw new Error(`no step dispatched:\n${run.stdout}\n${run.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    run.interrupt();
    const { code } = await run.exited;
    expect(code, run.stdout + run.stderr).toBe(130);
    const { events } = RunLog.open(runs, 'r').readEvents();
    const finished = events.at(-1);
    expect(finished?.type === 'finished' && finished.report.outcome).toBe('aborted');
    expect(finished?.type === 'finished' && finished.report.steps.at(-1)?.status).toBe('cancelled');
    await expect.poll(() => simLog.filter((l) => l.startsWith('cancel r/0/0'))).toHaveLength(1);
  }, 60_000);

  it('rollout says it was interrupted, counts only finished episodes, and exits 130', async () => {
    const runs = tmp('rollout-int');
    const rollout = start('rollout', '--robot', 'aloha-agilex', '--scene', 'tshirt', '--episodes', '20', '--backend', 'oracle', '--miss-rate', '0', '--runs', runs, '--json');
    // Progress lines go to stderr every 2 episodes (a tenth of them).
    await rollout.waitFor(/\] 2\/20/);
    rollout.interrupt();
    const { code } = await rollout.exited;
    expect(code, rollout.stdout + rollout.stderr).toBe(130);
    expect(rollout.stderr).toMatch(/interrupted: \d+ of 20 episodes finished/);
    const result = JSON.parse(rollout.stdout) as { episodes: number; successes: number; interrupted?: boolean };
    expect(result.interrupted).toBe(true);
    expect(result.episodes).toBeGreaterThanOrEqual(2);
    expect(result.episodes).toBeLessThan(20);
    // Every counted episode finished; the one Ctrl-C cut short is not among them.
    expect(result.successes).toBe(result.episodes);
    const [dir] = readdirSync(runs);
    const summary = JSON.parse(readFileSync(join(runs, dir!, 'summary.json'), 'utf8')) as { episodes: { outcome: string }[] };
    expect(summary.episodes).toHaveLength(result.episodes);
    expect(summary.episodes.every((e) => e.outcome === 'succeeded')).toBe(true);
  }, 90_000);

  it('sim closes its port and exits 130', async () => {
    const sim = start('sim', '--robot', 'aloha-agilex', '--scene', 'tshirt', '--port', '0');
    await sim.waitFor(/Ctrl-C to stop/);
    sim.interrupt();
    const { code } = await sim.exited;
    expect(code, sim.stdout + sim.stderr).toBe(130);
    expect(sim.stdout).toContain('keystep sim: stopped');
  }, 30_000);
});
