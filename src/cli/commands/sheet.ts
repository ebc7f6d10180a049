import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { contactSheet, type SheetTile } from '../../image/contact-sheet.js';
import { VERDICT_LEGEND, verdictFrame } from '../../run/run-sheet.js';
import { loadProfile } from '../../profile/load.js';
import { SceneId } from '../../schema/task.js';
import { runOracleEpisode } from '../../../sim/episode.js';
import { SimWorld } from '../../../sim/world.js';
import { choiceFlag, intFlag, numberFlag, parseFlags, requiredFlag } from '../args.js';
import type { Command } from '../command.js';
import { EXIT } from '../exit-codes.js';

const help = `keystep sheet --robot <id> --scene <tshirt|table> [options]

Runs the oracle planner in the simulator and writes a contact sheet: the first frame, then every step's
instruction under the keyframe camera's view after the step (misses and replans marked).

Options:
  --robot <id>        robot profile from robots/ (e.g. aloha-agilex, agibot-g1)
  --scene <name>      tshirt | table
  --task <text>       task for the scene (default: the scene's full task)
  --seed <n>          layout and miss seed (default 0)
  --miss-rate <p>     probability that a step misses, 0..1 (default 0)
  --out <file>        PNG to write (default runs/sheets/<scene>-<robot>-seed<n>.png)
  -h, --help          this text

Exit codes: 0 the oracle reached the goal, 1 it did not, 2 bad flags, 3 bad profile or task.`;

export const sheetCommand: Command = {
  help,
  async run(argv, io) {
    const { values } = parseFlags('sheet', argv, {
      robot: { type: 'string' },
      scene: { type: 'string' },
      task: { type: 'string' },
      seed: { type: 'string' },
      'miss-rate': { type: 'string' },
      out: { type: 'string' },
    });
    if (values.help) {
      io.out(help);
      return EXIT.ok;
    }
    const profile = loadProfile(requiredFlag('sheet', 'robot', values.robot, 'aloha-agilex'));
    const scene = choiceFlag('sheet', 'scene', values.scene, SceneId.options);
    const seed = intFlag('sheet', 'seed', values.seed, 0, { min: 0, max: 2 ** 31 - 1 });
    const missRate = numberFlag('sheet', 'miss-rate', values['miss-rate'], 0, { min: 0, max: 1 });
    const world = new SimWorld({ profile, scene, task: values.task ?? defaultTask(scene), seed, missRate });
    const episode = await runOracleEpisode(world);
    const tiles: SheetTile[] = [{ image: episode.start, caption: 'start', note: `seed ${seed}` }];
    episode.steps.forEach((s, i) => {
      const outcome = s.feedback.status === 'done' ? 'done' : `${s.feedback.status}: ${s.feedback.reason ?? ''}`;
      const frame = s.feedback.status === 'accepted' ? undefined : verdictFrame(s.feedback.status);
      tiles.push({ image: s.after, caption: `${i + 1}. ${s.instruction}`, note: s.replan > 0 ? `plan v${s.replan + 1} · ${outcome}` : outcome, ...(frame ? { frame } : {}) });
    });
    const title = `${scene} · ${profile.id} · "${world.options.task}" · ${episode.success ? 'goal reached' : 'goal NOT reached'} · ${episode.steps.length} steps, ${episode.misses} misses`;
    const png = await contactSheet(tiles, { title, columns: 4, ...VERDICT_LEGEND });
    // Under runs/ by default: docs/ holds the README's pictures, which only an explicit --out replaces.
    const out = values.out ?? join('runs', 'sheets', `${scene}-${profile.id}-seed${seed}.png`);
    mkdirSync(join(out, '..'), { recursive: true });
    writeFileSync(out, png);
    io.out(`${title}\nwrote ${out}`);
    return episode.success ? EXIT.ok : EXIT.failed;
  },
};

export function defaultTask(scene: SceneId): string {
  switch (scene) {
    case 'tshirt':
      return 'fold the t-shirt';
    case 'table':
      return 'clear the table';
  }
}
