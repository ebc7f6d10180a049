/**
 * Exports the world model's training data from the simulator: states sampled along oracle trajectories
 * with injected misses (so failure states and their recovery plans are covered), on both scenes and the
 * shipped robots. Deterministic from --seed. Writes into --out:
 *   frames.bin    N x S x S x 3 uint8 RGB (S = --size, default 128), the model-size pictures (src/model/image-io.ts)
 *   index.json    { frameShape, words, plans: [...], transitions: [...] } — rows name frames by number
 *
 *   npx tsx scripts/export-dataset.ts --out models/.cache/data [--train-seeds 150] [--heldout-seeds 12]
 *       [--miss-rate 0.2] [--seed 7] [--size 128] [--extra-train-seeds 0] [--extra-miss-rate 0.5] [--tipped-starts 0]
 *       [--slipped-folds 0]
 *
 * --extra-train-seeds adds that many training episodes after the first --train-seeds, at
 * --extra-miss-rate: recovery steps (a one-corner grasp after a slip, tidying a flipped collar) are
 * rare at 0.2, and the model drew them too weakly. The first episodes' rows stay exactly as without it.
 *
 * --tipped-starts F: in that share of the extra table episodes, some cups, bowls and bottles lie on
 * their side from the start or from one of the first few steps on (sim/miss/table.ts tippedStart):
 * more stand-up steps, at any angle. With 0 (the default) the files are the same as without the flag.
 *
 * --slipped-folds F: in that share of the extra T-shirt episodes, the first bottom fold stops short
 * and its retry loses one corner (sim/miss/tshirt.ts slippedFoldMiss), so a one-corner grasp on a
 * half-folded bottom follows. Two misses in a row make it otherwise. With 0 (the default) the files
 * are the same as without the flag.
 *
 * Held-out episodes use scene seeds >= 100000, training ones seeds < 100000.
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { missModelOf } from '../sim/miss/index.js';
import { tippedStart } from '../sim/miss/table.js';
import { slippedFoldMiss } from '../sim/miss/tshirt.js';
import { sceneById } from '../src/scenes/registry.js';
import { sceneSvg } from '../src/scenes/view.js';
import type { SceneId } from '../src/schema/index.js';
import { loadProfile } from '../src/profile/load.js';
import { Rng } from '../src/util/rng.js';
import { DATASET_ROBOTS, HELDOUT_SEED_BASE } from '../src/model/dataset.js';
import { MODEL_IMAGE, toModelRgb } from '../src/model/image-io.js';
import { words } from '../src/model/text.js';

interface PlanRow {
  split: 'train' | 'heldout';
  scene: SceneId;
  robot: string;
  seed: number;
  task: string;
  frame: number;
  steps: string[];
}

interface TransitionRow {
  split: 'train' | 'heldout';
  scene: SceneId;
  robot: string;
  seed: number;
  task: string;
  /** The picture the step starts from: the current observation or the previous keyframe. */
  frame: number;
  step: string;
  /** The picture after the step as the oracle means it (the keyframe to draw). */
  next: number;
  /** True when `frame` is a failure state the oracle is recovering from. */
  afterMiss: boolean;
}

/** Pictures rendering at once; a frame's slot holds NOT_YET until its picture is done. */
const RENDER_AHEAD = 8;
const NOT_YET = new Uint8Array(0);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

/** Tipped objects appear before one of the first TIP_WITHIN steps (a table is cleared in 12). */
const TIP_WITHIN = 7;

async function main(): Promise<void> {
  const out = arg('out', 'models/.cache/data');
  const trainSeeds = Number(arg('train-seeds', '150'));
  const heldoutSeeds = Number(arg('heldout-seeds', '12'));
  const missRate = Number(arg('miss-rate', '0.2'));
  const extraSeeds = Number(arg('extra-train-seeds', '0'));
  const extraMissRate = Number(arg('extra-miss-rate', '0.5'));
  const tippedStarts = Number(arg('tipped-starts', '0'));
  const slippedFolds = Number(arg('slipped-folds', '0'));
  const seed = Number(arg('seed', '7'));
  // Model picture size (square): 128 by default (MODEL_IMAGE); --size 64 gives 64x64 pictures.
  const side = Number(arg('size', String(MODEL_IMAGE.width)));
  const size = { width: side, height: side };
  mkdirSync(out, { recursive: true });

  const frames: Uint8Array[] = [];
  const frameIds = new Map<string, number>();
  const plans: PlanRow[] = [];
  const transitions: TransitionRow[] = [];
  const vocab = new Set<string>();
  const rendering = new Set<Promise<void>>();

  for (const sceneId of ['tshirt', 'table'] as const) {
    const scene = sceneById(sceneId);
    for (const robotId of DATASET_ROBOTS[sceneId]) {
      const profile = loadProfile(robotId);
      const camera = profile.cameras.find((c) => c.name === profile.keyframeCamera)!;
      // One picture per distinct state; the SVG text is the state's identity as the camera sees it.
      // Frames are numbered in order of first appearance and rendered while the episodes go on, a
      // few at a time: sharp rasterises off the main thread, so the cores share the work, and the
      // files are the same as rendering one by one.
      const frameOf = async (state: unknown): Promise<number> => {
        const svg = sceneSvg(scene, state as never, { mount: camera.mount }, camera.resolution);
        const known = frameIds.get(svg);
        if (known !== undefined) return known;
        const id = frames.length;
        frames.push(NOT_YET);
        frameIds.set(svg, id);
        const job: Promise<void> = toModelRgb(svg, size).then((rgb) => {
          frames[id] = rgb;
          rendering.delete(job);
        });
        rendering.add(job);
        if (rendering.size >= RENDER_AHEAD) await Promise.race(rendering);
        return id;
      };
      for (const split of ['train', 'heldout'] as const) {
        const count = split === 'train' ? trainSeeds + extraSeeds : heldoutSeeds;
        for (let k = 0; k < count; k++) {
          const episodeSeed = (split === 'train' ? 0 : HELDOUT_SEED_BASE) + k;
          const episodeMissRate = split === 'train' && k >= trainSeeds ? extraMissRate : missRate;
          const rng = new Rng(seed ^ Math.imul(episodeSeed + 1, 0x9e3779b1)).fork(`${sceneId}/${robotId}`);
          // Mostly the full task; sometimes a sub-task so the text side sees every task phrase.
          const task = rng.chance(0.7) ? scene.tasks[0]! : rng.pick(scene.tasks);
          const goal = scene.parseTask(task);
          if (!goal.ok) throw new Error(goal.reason);
          for (const w of words(`${robotId} ${task}`)) vocab.add(w);
          let state = scene.initial(profile, new Rng(episodeSeed).fork('layout'));
          // A stream of its own, drawn only when asked for, so the other rows stay as they were. The
          // objects tip at the start or after a few steps: a full table has no room for a tipped bottle.
          const tip = sceneId === 'table' && split === 'train' && k >= trainSeeds && tippedStarts > 0 ? new Rng(episodeSeed).fork('tipped') : null;
          const tipAt = tip?.chance(tippedStarts) ? tip.int(TIP_WITHIN) : -1;
          // The same for the chain of two bottom-fold misses: a stream of its own, two forced misses.
          const slip = sceneId === 'tshirt' && split === 'train' && k >= trainSeeds && slippedFolds > 0 ? new Rng(episodeSeed).fork('slipped-folds') : null;
          let slipsLeft = slip?.chance(slippedFolds) ? 2 : 0;
          let afterMiss = false;
          for (let guard = 0; guard < 40; guard++) {
            if (guard === tipAt) state = tippedStart(state as never, tip!);
            const steps = scene.oracle(state, goal.goal, profile);
            const frame = await frameOf(state);
            plans.push({ split, scene: sceneId, robot: robotId, seed: episodeSeed, task, frame, steps: steps.map((s) => s.instruction) });
            if (steps.length === 0) break;
            for (const s of steps) for (const w of words(s.instruction)) vocab.add(w);
            // The whole chain of keyframes this plan implies: each step conditioned on the previous keyframe.
            let prev = frame;
            for (const s of steps) {
              const next = await frameOf(s.next);
              transitions.push({ split, scene: sceneId, robot: robotId, seed: episodeSeed, task, frame: prev, step: s.instruction, next, afterMiss: prev === frame && afterMiss });
              prev = next;
            }
            // Execute the first step; sometimes it misses and the next plan starts from a failure state.
            const first = steps[0]!;
            const forced = slipsLeft > 0 ? slippedFoldMiss(state as never, first.action, slip!) : null;
            if (forced !== null) {
              slipsLeft--;
              state = forced.state;
              afterMiss = true;
            } else if (rng.chance(episodeMissRate)) {
              state = missModelOf(sceneId).miss(state, first.action, rng).state;
              afterMiss = true;
            } else {
              state = first.next;
              afterMiss = false;
            }
          }
        }
      }
      console.error(`${sceneId}/${robotId}: ${frames.length} frames, ${plans.length} plans, ${transitions.length} transitions so far`);
    }
  }

  await Promise.all(rendering);
  // Frame by frame: a few hundred extra seeds make the file larger than one write (2 GiB) can take.
  const fd = openSync(join(out, 'frames.bin'), 'w');
  try {
    for (const f of frames) writeFully(fd, f);
  } finally {
    closeSync(fd);
  }
  writeFileSync(
    join(out, 'index.json'),
    JSON.stringify({ frameShape: [size.height, size.width, 3], words: [...vocab].sort(), seed, missRate, extraSeeds, extraMissRate, ...(tippedStarts > 0 ? { tippedStarts } : {}), ...(slippedFolds > 0 ? { slippedFolds } : {}), plans, transitions }),
  );
  console.error(`wrote ${frames.length} frames, ${plans.length} plans, ${transitions.length} transitions to ${out}`);
}

function writeFully(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}

await main();
