import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../errors/usage-error.js';
import { contactSheet, type SheetTile } from '../../image/contact-sheet.js';
import { readImageFile } from '../../image/image-file.js';
import { OnnxPlanner } from '../../model/onnx-planner.js';
import { redrawThroughPalette, rendererPalette } from '../../model/palette-oracle.js';
import { redrawThroughTokenizer } from '../../model/tokenizer-oracle.js';
import { keyframeSizeOf } from '../../model/image-io.js';
import { backendModelSource, openWorldModel } from '../../model/open-model.js';
import type { PlanningModel } from '../../model/planning-model.js';
import { KEYFRAME_SAMPLERS } from '../../model/world-model.js';
import type { PlanDraft } from '../../planner/planner.js';
import { loadProfile } from '../../profile/load.js';
import { SceneId } from '../../schema/task.js';
import { checkTask } from '../../scenes/task-check.js';
import { BACKENDS, DEFAULT_BACKEND } from '../../run/session.js';
import { oraclePlan } from '../../../sim/oracle-plan.js';
import { writePlanDir } from '../../validate/plan-dir.js';
import { validateDraft } from '../../validate/validate-draft.js';
import { keyframeGate, textGate } from '../../validate/gates.js';
import { SimWorld } from '../../../sim/world.js';
import { choiceFlag, intFlag, modelFlags, modelFlagsHelp, parseFlags, requiredFlag } from '../args.js';
import type { Command } from '../command.js';
import { EXIT } from '../exit-codes.js';

const help = `keystep plan --robot <id> --task "<text>" (--image obs.png | --scene <tshirt|table> [--seed N]) [options]

Asks a planner for a plan from one camera picture: step instructions plus a goal keyframe per step.
Writes plan.json (keystep.plan/1), one PNG per step, the observation, and sheet.png, a contact sheet
with the observation followed by each step's text under its keyframe. Then validates the plan and
prints the issues.

Options:
  --robot <id>        robot profile
  --task <text>       e.g. "fold the t-shirt"
  --image <file>      the observation: any image file (the keyframe camera's view)
  --scene <name>      render the observation from the simulator instead: tshirt | table
  --seed <n>          simulator layout seed for --scene (default 0)
  --backend <name>    ${BACKENDS.join(' | ')} (default ${DEFAULT_BACKEND}). The oracles need --scene: they plan from the sim's
                      state; oracle-vq redraws the oracle's keyframes through the model's tokenizer,
                      oracle-pal through the palette codec
  --sampler <name>    keyframe decoding of the onnx backend: dida | ar (default dida)
${modelFlagsHelp(22)}
  --out <dir>         where to write (default runs/plans/<robot>-<scene-seed or image>-<backend>)
  --json              print one JSON object: { dir, plan, validation: { ok, issues, incomplete }, timing }
  -h, --help          this text

The task is checked against the scene (--scene, or the scene whose task it is) and the robot first.
Exit codes: 0 plan written and valid, 1 plan written but INVALID (see the issues), 2 bad flags,
3 bad profile, task, image or model directory.`;

export const planCommand: Command = {
  help,
  async run(argv, io) {
    const { values } = parseFlags('plan', argv, {
      robot: { type: 'string' },
      task: { type: 'string' },
      image: { type: 'string' },
      scene: { type: 'string' },
      seed: { type: 'string' },
      backend: { type: 'string' },
      sampler: { type: 'string' },
      model: { type: 'string' },
      devices: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.help) {
      io.out(help);
      return EXIT.ok;
    }
    const profile = loadProfile(requiredFlag('plan', 'robot', values.robot, 'aloha-agilex'));
    const task = requiredFlag('plan', 'task', values.task, '"fold the t-shirt"');
    const backend = choiceFlag('plan', 'backend', values.backend, BACKENDS, DEFAULT_BACKEND);
    const sampler = choiceFlag('plan', 'sampler', values.sampler, KEYFRAME_SAMPLERS, 'dida');
    const scene = values.scene === undefined ? undefined : choiceFlag('plan', 'scene', values.scene, SceneId.options);
    const seed = intFlag('plan', 'seed', values.seed, 0, { min: 0, max: 2 ** 31 - 1 });
    const source = modelFlags('plan', values);
    if ((values.image === undefined) === (scene === undefined)) {
      throw new UsageError('give the observation either as --image <file> or as --scene <tshirt|table> [--seed N], not both', 'plan');
    }
    if (backend !== 'onnx' && scene === undefined) {
      throw new UsageError(`the ${backend} backend plans from the simulator state: use --scene (and --seed) instead of --image`, 'plan');
    }
    // The task's scene: the one given, or the one whose task it is (checked before any model loads).
    const taskScene = checkTask(task, profile, scene).scene;
    const world = scene === undefined ? undefined : new SimWorld({ profile, scene, task, seed, missRate: 0 });
    const observation = values.image !== undefined ? await readImageFile(values.image) : new Uint8Array(await world!.observe());

    const withModel = async <T>(use: (model: PlanningModel) => Promise<T>): Promise<T> => {
      const model = await openWorldModel(backendModelSource(backend, source));
      try {
        return await use(model);
      } finally {
        await model.close();
      }
    };
    const start = performance.now();
    let draft: PlanDraft;
    switch (backend) {
      case 'oracle':
        draft = (await oraclePlan(world!)).draft;
        break;
      case 'oracle-vq': {
        const oracle = (await oraclePlan(world!)).draft;
        draft = { ...(await withModel((model) => redrawThroughTokenizer(model, oracle, observation, keyframeSizeOf(profile)))), backend };
        break;
      }
      case 'oracle-pal': {
        const oracle = (await oraclePlan(world!)).draft;
        draft = { ...(await redrawThroughPalette(rendererPalette(), oracle, observation, keyframeSizeOf(profile))), backend };
        break;
      }
      case 'onnx':
        draft = await withModel((model) =>
          new OnnxPlanner(model, { sampler, seed, check: keyframeGate(), textCheck: textGate() }).plan({ robot: profile, task, observation, history: [], version: 1, scene: taskScene }),
        );
        break;
    }
    const planMs = Math.round(performance.now() - start);
    // Under runs/ by default: plans/ holds the shipped examples, which a plan must not overwrite.
    const dir = values.out ?? join('runs', 'plans', `${profile.id}-${scene ? `${scene}-seed${seed}` : 'image'}-${backend}${backend === 'onnx' ? `-${sampler}` : ''}`);
    const plan = writePlanDir(dir, { draft, robot: profile.id, task, observation });
    const tiles: SheetTile[] = [{ image: observation, caption: 'observation' }, ...draft.steps.map((s, i) => ({ image: s.keyframe, caption: `${i + 1}. ${s.instruction}` }))];
    const title = `${profile.id} · "${task}" · backend ${backend}${backend === 'onnx' ? ` (${sampler})` : ''} · ${draft.steps.length} steps · ${planMs} ms`;
    writeFileSync(join(dir, 'sheet.png'), await contactSheet(tiles, { title, columns: 4 }));
    const validation = await validateDraft({ plan: draft, robot: profile, observation, task, scene: taskScene });
    if (values.json) {
      io.out(JSON.stringify({ dir, plan, validation, timing: { planMs } }));
    } else {
      io.out(title);
      draft.steps.forEach((s, i) => io.out(`  ${String(i + 1).padStart(2)}. ${s.instruction}`));
      io.out(validation.ok ? `valid (${validation.issues.length} warning(s))` : `INVALID: ${validation.issues.filter((i) => i.severity === 'error').length} error(s)`);
      for (const issue of validation.issues) io.out(`  ${issue.severity} ${issue.code}${issue.step === null ? '' : ` step ${issue.step}`}: ${issue.message}`);
      io.out(`wrote ${dir}/plan.json, ${draft.steps.length} keyframes, sheet.png`);
    }
    return validation.ok ? EXIT.ok : EXIT.failed;
  },
};
