import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliProcess } from '../helpers/cli.js';

/*
 * One `keystep serve` process driving ten runs at once, each against its own `keystep sim` process:
 * the service's runs share a process, a model host and a run registry, and nothing may leak from one
 * run into another (a step sent to the wrong robot, a lease held by the wrong run).
 */

interface Robot {
  robot: string;
  scene: 'tshirt' | 'table';
  task: string;
  seed: number;
  runId: string;
}

const ROBOTS: Robot[] = [
  ...[1, 2, 3, 4, 5].map((seed) => ({ robot: 'aloha-agilex', scene: 'tshirt' as const, task: 'fold the t-shirt', seed, runId: `fold-${seed}` })),
  ...[11, 12, 13, 14, 15].map((seed) => ({ robot: 'agibot-g1', scene: 'table' as const, task: 'clear the table', seed, runId: `table-${seed}` })),
];

const processes: CliProcess[] = [];
afterAll(async () => {
  for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.interrupt();
  await Promise.all(processes.map((p) => p.exited));
});

function start(...argv: string[]): CliProcess {
  const p = new CliProcess(argv);
  processes.push(p);
  return p;
}

/** The address a process printed once it listens. */
async function address(p: CliProcess, pattern: RegExp): Promise<string> {
  await p.waitFor(pattern);
  return pattern.exec(p.stdout)![1]!;
}

interface Sent {
  stepId: string;
  instruction: string;
}

/** What a sim's log says it executed: `[sim] step <run>/<index>/<attempt> "<instruction>": <status>`. */
function executed(simStdout: string): Sent[] {
  return [...simStdout.matchAll(/^\[sim\] step (\S+) "(.*)": \w+/gm)].map((m) => ({ stepId: m[1]!, instruction: m[2]! }));
}

/** What a run's log says it sent: every first dispatch of a step id (a redispatch is the same step again). */
function dispatched(eventsJsonl: string): Sent[] {
  return eventsJsonl
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; stepId?: string; instruction?: string; redispatch?: boolean })
    .filter((e) => e.type === 'step_dispatched' && !e.redispatch)
    .map((e) => ({ stepId: e.stepId!, instruction: e.instruction! }));
}

describe('ten runs at once through one keystep serve, each against its own keystep sim', () => {
  it('all ten succeed, and each robot executed exactly its own run\'s steps', async () => {
    const runsDir = mkdtempSync(join(tmpdir(), 'keystep-many-runs-'));
    const t0 = performance.now();
    const sims = ROBOTS.map((r) =>
      start('sim', '--robot', r.robot, '--scene', r.scene, '--seed', String(r.seed), '--miss-rate', '0.15', '--step-ms', '20', '--camera-hz', '1', '--port', '0'),
    );
    const serve = start('serve', '--port', '0', '--runs', runsDir);
    const urls = await Promise.all(sims.map((s) => address(s, /rosbridge (ws:\/\/\S+)/)));
    const base = await address(serve, /listening on (http:\/\/\S+);/);
    const t1 = performance.now();

    const started = await Promise.all(
      ROBOTS.map((r, i) =>
        fetch(`${base}/v1/runs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ robot: r.robot, task: r.task, rosbridge: urls[i], backend: 'oracle', runId: r.runId, seed: r.seed }),
        }).then(async (res) => ({ status: res.status, body: (await res.json()) as { runId: string; state: string } })),
      ),
    );
    expect(started.map((s) => s.status)).toEqual(ROBOTS.map(() => 201));
    expect(started.map((s) => s.body.runId)).toEqual(ROBOTS.map((r) => r.runId));

    // Poll the run list until none is running (each run's own end is its `finished` record).
    let runs: { runId: string; state: string; outcome?: string }[] = [];
    const deadline = Date.now() + 200_000;
    do {
      await new Promise((r) => setTimeout(r, 500));
      runs = ((await (await fetch(`${base}/v1/runs`)).json()) as { runs: typeof runs }).runs;
    } while (runs.some((r) => r.state === 'running') && Date.now() < deadline);
    const t2 = performance.now();
    expect(Object.fromEntries(runs.map((r) => [r.runId, `${r.state} ${r.outcome}`]))).toEqual(Object.fromEntries(ROBOTS.map((r) => [r.runId, 'finished succeeded'])));

    // Stop the sims so their logs are whole, then hold each against its run's events.jsonl.
    for (const s of sims) s.interrupt();
    await Promise.all(sims.map((s) => s.exited));
    let steps = 0;
    ROBOTS.forEach((r, i) => {
      const log = readFileSync(join(runsDir, r.runId, 'events.jsonl'), 'utf8');
      const sent = dispatched(log);
      const got = executed(sims[i]!.stdout);
      expect(sent.length, r.runId).toBeGreaterThanOrEqual(r.scene === 'tshirt' ? 7 : 12);
      // The same steps, texts and order: nothing of another run arrived, nothing of this one went elsewhere.
      expect(got, `${r.runId}: what sim ${urls[i]} executed`).toEqual(sent);
      expect(got.every((s) => s.stepId.startsWith(`${r.runId}/`))).toBe(true);
      // The robot's lease was held by this run alone.
      const holders = [...sims[i]!.stdout.matchAll(/lease: held by run (\S+)/g)].map((m) => m[1]);
      expect(new Set(holders), r.runId).toEqual(new Set([r.runId]));
      steps += got.length;
    });
    console.log(`10 runs through one serve: ${steps} steps; processes up in ${Math.round(t1 - t0)} ms, runs done in ${Math.round(t2 - t1)} ms`);
  }, 300_000);
});
