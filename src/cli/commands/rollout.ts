import { DEFAULT_KEEP_BIAS, KEYFRAME_SAMPLERS } from '../../model/world-model.js';
import { DEFAULT_DIDA } from '../../model/dida.js';
import { loadProfile } from '../../profile/load.js';
import { SceneId } from '../../schema/task.js';
import { DEFAULT_ATTEMPTS, queuedRollout } from '../../queue/queued-rollout.js';
import { redisOptions } from '../../queue/redis-url.js';
import { rollout, type RolloutSettings } from '../../run/rollout.js';
import { BACKENDS, DEFAULT_BACKEND } from '../../run/session.js';
import { choiceFlag, intFlag, modelFlags, modelFlagsHelp, numberFlag, parseFlags, requiredFlag } from '../args.js';
import { UsageError } from '../../errors/usage-error.js';
import type { Command } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { interruptSignal } from '../interrupt.js';
import { plannerFlags } from '../planner-flags.js';
import { progressBar } from '../progress.js';
import { defaultTask } from './sheet.js';

const help = `keystep rollout --robot <id> --scene <tshirt|table> --task "<text>" --episodes N [options]

Runs simulated episodes end to end: a sim robot behind a real rosbridge socket, and for each episode the
executor over roslib, exactly as keystep run drives a real robot. Prints episodes, successes, success
rate, steps, misses, replans, plan latency p50/p95 and wall time. Writes every episode's run log and
contact sheet (epNNNN/sheet.png), plus summary.json and summary.png (success per step, replans,
failure reasons), under runs/rollout-*/.

Options:
  --robot <id>        robot profile
  --scene <name>      tshirt | table
  --task <text>       task (default: the scene's full task)
  --episodes <n>      number of episodes (default 10)
  --miss-rate <p>     probability that a step misses, 0..1 (default 0.15)
  --seed <s>          first episode's seed; episode i uses s + i (default 0)
  --backend <name>    planner: ${BACKENDS.join(' | ')} (default ${DEFAULT_BACKEND}, the embedded world model;
                      oracle-vq: the oracle's plans drawn through the model's tokenizer, the most the
                      onnx backend could reach with a perfect transformer)
  --sampler <name>    keyframe decoding of the onnx backend: dida | ar (default dida)
  --passes <n>        DiDA passes per keyframe of the onnx backend, 1-16 (default: the model's own,
                      spec.json decoding.passes, else ${DEFAULT_DIDA.passes})
  --keep-bias <x>     prior (logits) that a keyframe cell keeps its starting code, negative = towards
                      a change (default ${DEFAULT_KEEP_BIAS}; write negative values as --keep-bias=-2)
  --missed-keep-bias <x>  keep prior for a step the robot just missed (default: --keep-bias)
  --missed-draws <n>  onnx backend: draw n keyframes for a step the robot just missed and keep the
                      one that changes the picture most among those the checks pass (default 1)
  --put-off <n>       onnx backend: after n misses in a row of one step, start the next plan with
                      another step the model offers (order-free tasks; default 0 = never)
${modelFlagsHelp(22)}
  --no-replan         fail an episode at its first miss instead of replanning
  --whole-plans       fail an episode when no draft of a plan passes validation, instead of running
                      the validated steps before the first refused one and planning again after them
  --runs <dir>        where run logs go (default runs)
  --planner <url>     plan every episode through a running keystep serve (http://host:port, its
                      embedded model; episode i with seed s + i) instead of in this process; not
                      with --backend, --queue, --model, --devices or the onnx decoding flags above
  --planner-token-file <file>  the service's bearer token, for --planner
  --queue <url>       run the episodes on queue workers (keystep worker) through Redis instead of in
                      this process: redis://host:6379. Same summary.json, summary.png and episode
                      folders; --model/--devices are then the workers' own flags
  --attempts <n>      with --queue: tries per episode before it counts as failed (default ${DEFAULT_ATTEMPTS});
                      failed episodes are left out of the figures and listed in summary.json's failed
  --json              print exactly one JSON object: episodes, successes, successRate, steps, misses,
                      replans, planLatencyMs {p50, p95}, wallS (and interrupted: true after Ctrl-C;
                      with --queue, failed: n when episodes crashed on every attempt)
  -h, --help          this text

The task is checked against the scene and the robot before the sim starts. Ctrl-C stops the rollout:
the episode in flight is aborted and left out, the figures count the finished episodes.
Exit codes: 0 ran (whatever the success rate), 2 bad flags, 3 bad profile, task or model directory,
4 the sim could not start, 130 Ctrl-C.`;

export const rolloutCommand: Command = {
  help,
  async run(argv, io) {
    const { values } = parseFlags('rollout', argv, {
      robot: { type: 'string' },
      scene: { type: 'string' },
      task: { type: 'string' },
      episodes: { type: 'string' },
      'miss-rate': { type: 'string' },
      seed: { type: 'string' },
      backend: { type: 'string' },
      'no-replan': { type: 'boolean' },
      'whole-plans': { type: 'boolean' },
      sampler: { type: 'string' },
      passes: { type: 'string' },
      'keep-bias': { type: 'string' },
      'put-off': { type: 'string' },
      'missed-keep-bias': { type: 'string' },
      'missed-draws': { type: 'string' },
      model: { type: 'string' },
      devices: { type: 'string' },
      runs: { type: 'string' },
      queue: { type: 'string' },
      attempts: { type: 'string' },
      planner: { type: 'string' },
      'planner-token-file': { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.help) {
      io.out(help);
      return EXIT.ok;
    }
    const profile = loadProfile(requiredFlag('rollout', 'robot', values.robot, 'aloha-agilex'));
    const scene = choiceFlag('rollout', 'scene', values.scene, SceneId.options);
    const episodes = intFlag('rollout', 'episodes', values.episodes, 10, { min: 1, max: 100_000 });
    const json = values.json === true;
    const remote = plannerFlags('rollout', values);
    if (remote) {
      // The service plans with its own model and decoding: a flag meant for this process would be dropped.
      const local = (['backend', 'queue', 'sampler', 'passes', 'keep-bias', 'missed-keep-bias', 'missed-draws', 'put-off', 'model', 'devices'] as const).find((f) => values[f] !== undefined);
      if (local !== undefined) throw new UsageError(`--${local} is for planning in this process; with --planner the service plans (with its embedded model and its own flags)`, 'rollout');
    }
    const interrupt = interruptSignal(() => io.err('interrupted: aborting the episode in flight...'));
    let lastDraw = 0;
    let successes = 0;
    try {
      const settings: RolloutSettings = {
        profile,
        scene,
        task: values.task ?? defaultTask(scene),
        episodes,
        missRate: numberFlag('rollout', 'miss-rate', values['miss-rate'], 0.15, { min: 0, max: 1 }),
        seed: intFlag('rollout', 'seed', values.seed, 0, { min: 0, max: 2 ** 31 - 1 - episodes }),
        backend: choiceFlag('rollout', 'backend', values.backend, BACKENDS, DEFAULT_BACKEND),
        replan: values['no-replan'] !== true,
        partialPlans: values['whole-plans'] !== true,
        sampler: choiceFlag('rollout', 'sampler', values.sampler, KEYFRAME_SAMPLERS, 'dida'),
        ...(values.passes !== undefined ? { passes: intFlag('rollout', 'passes', values.passes, DEFAULT_DIDA.passes, { min: 1, max: 16 }) } : {}),
        keepBias: numberFlag('rollout', 'keep-bias', values['keep-bias'], DEFAULT_KEEP_BIAS, { min: -20, max: 20 }),
        putOffAfter: intFlag('rollout', 'put-off', values['put-off'], 0, { min: 0, max: 100 }),
        ...(values['missed-keep-bias'] !== undefined ? { missedKeepBias: numberFlag('rollout', 'missed-keep-bias', values['missed-keep-bias'], 0, { min: -20, max: 20 }) } : {}),
        missedDraws: intFlag('rollout', 'missed-draws', values['missed-draws'], 1, { min: 1, max: 32 }),
        ...(remote ? { plannedBy: `keystep serve at ${values.planner}` } : {}),
      };
      if (values.attempts !== undefined && values.queue === undefined) throw new UsageError('--attempts needs --queue: a local rollout runs every episode once', 'rollout');
      const runsDir = values.runs ?? 'runs';
      const draw = (done: number, tail: string) => {
        // Progress goes to stderr so that --json leaves stdout with exactly one object.
        const now = Date.now();
        if (done === episodes || now - lastDraw > 250) {
          lastDraw = now;
          const line = `${progressBar(done, episodes)} ${tail}`;
          if (io.tty) process.stderr.write(`\r${line}${done === episodes ? '\n' : ''}`);
          else if (done === episodes || done % Math.max(1, Math.round(episodes / 10)) === 0) io.err(line);
        }
      };
      let lastDone = -1;
      const { result, dir } =
        values.queue !== undefined
          ? await queuedRollout({
              ...settings,
              connection: redisOptions(values.queue, 'rollout'),
              attempts: intFlag('rollout', 'attempts', values.attempts, DEFAULT_ATTEMPTS, { min: 1, max: 100 }),
              runsDir,
              signal: interrupt.signal,
              onProgress: ({ finished, failed }) => {
                if (finished + failed === lastDone) return;
                lastDone = finished + failed;
                draw(finished + failed, `finished ${finished}${failed > 0 ? ` failed ${failed}` : ''}`);
              },
            })
          : await rollout({
              ...settings,
              model: modelFlags('rollout', values),
              ...(remote ? { planner: (seed: number) => remote.withSeed(seed) } : {}),
              runsDir,
              signal: interrupt.signal,
              onEpisode: (done, episode) => {
                if (episode.success) successes++;
                draw(done, `successes ${successes}`);
              },
            });
      if (result.interrupted) io.err(`interrupted: ${result.episodes} of ${episodes} episodes finished; the figures count those`);
      if (json) {
        io.out(JSON.stringify(result));
      } else {
        io.out(
          [
            `episodes      ${result.episodes}`,
            `successes     ${result.successes}`,
            `success rate  ${result.successRate}`,
            `steps         ${result.steps}`,
            `misses        ${result.misses}`,
            `replans       ${result.replans}`,
            `plan latency  p50 ${result.planLatencyMs.p50} ms, p95 ${result.planLatencyMs.p95} ms`,
            `wall time     ${result.wallS} s`,
            ...(remote ? [`planner       keystep serve at ${values.planner}`] : []),
            ...(result.failed ? [`failed        ${result.failed} episodes crashed on every attempt (summary.json, failed)`] : []),
            `summary       ${dir}/summary.png`,
            ...(result.interrupted ? [`interrupted   after ${result.episodes} of ${episodes} episodes`] : []),
          ].join('\n'),
        );
      }
      return result.interrupted ? EXIT.interrupted : EXIT.ok;
    } finally {
      interrupt.dispose();
    }
  },
};
