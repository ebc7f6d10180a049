import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYFRAME_SIZE, keyframeSizeOf } from '../../src/model/image-io.js';
import { WorldModel } from '../../src/model/world-model.js';
import { heldOutCases, heldOutRecoveries } from '../../src/run/model-bench.js';
import { sceneById } from '../../src/scenes/registry.js';
import type { SceneId } from '../../src/schema/index.js';
import { validateDraft } from '../../src/validate/index.js';
import { decide, type ControllerDecision } from '../../sim/controller.js';
import { MODEL_DIR } from './fixtures.js';

/**
 * The embedded model draws at 128x128 and its keyframes go to the robot at the keyframe camera's size,
 * enlarged with nearest-neighbour. The sim controller and the validator shrink every picture to their
 * compare size (128x96), where the enlarged keyframe is not bit-identical to the 128x96 one (the
 * shrink is cubic): the claim here is that their verdicts are. Checked before this change on 72
 * held-out draws (12 starts and 6 recoveries per scene, seeds 0 and 1): no decision and no issue differed.
 */
describe('keyframes at the keyframe camera\'s size', () => {
  let model: WorldModel;
  beforeAll(async () => {
    model = await WorldModel.open({ dir: MODEL_DIR, threads: 1 });
  });
  afterAll(async () => {
    await model.close();
  });

  it('are the 128x96 keyframe enlarged to the camera resolution, block by block', async () => {
    const [c] = heldOutCases('tshirt', 1);
    const picture = await model.encodePicture(c!.svg(c!.state));
    const small = await model.toPng(picture.rgb);
    const size = keyframeSizeOf(c!.profile);
    expect(size).toEqual({ width: 640, height: 480 });
    const big = await model.toPng(picture.rgb, size);
    expect((await sharp(small).metadata()).width).toBe(KEYFRAME_SIZE.width);
    const shrunk = await sharp(big).resize(KEYFRAME_SIZE.width, KEYFRAME_SIZE.height, { kernel: 'nearest' }).raw().toBuffer();
    expect(shrunk.equals(await sharp(small).removeAlpha().raw().toBuffer())).toBe(true);
  });

  it('get the same controller decision and the same validator issues as at 128x96, on held-out steps of both scenes', async () => {
    const decision = (d: ControllerDecision<unknown>) => (d.kind === 'act' ? `act ${JSON.stringify(d.action)}` : d.kind);
    const issues = (v: Awaited<ReturnType<typeof validateDraft>>) => `${v.ok} ${v.issues.map((i) => `${i.severity}:${i.code}:${i.step}`).sort().join(',')}`;
    const seen: string[] = [];
    for (const scene of ['tshirt', 'table'] as SceneId[]) {
      const mod = sceneById(scene);
      for (const c of [...heldOutCases(scene, 2), ...heldOutRecoveries(scene, 1)]) {
        const step = c.steps[c.at]!.instruction;
        const frame = c.svg(c.state);
        const observation = new Uint8Array(await sharp(Buffer.from(frame)).png().toBuffer());
        const from = await model.encodePicture(frame);
        const rgb = (await model.decodePicture(await model.keyframe(c.robot, c.task, from.codes, step, { sampler: 'dida', seed: 0 }), from)).rgb;
        const verdicts = await Promise.all(
          [undefined, keyframeSizeOf(c.profile)].map(async (size) => {
            const keyframe = await model.toPng(rgb, size);
            const draft = { id: 'k', version: 1, backend: 'onnx', createdAt: new Date(0).toISOString(), scene, steps: [{ index: 0, instruction: step, keyframe }] };
            const validation = await validateDraft({ plan: draft, robot: c.profile, observation, history: [], task: c.task, scene });
            return `${decision(await decide(mod, c.profile, c.state as never, step, keyframe))} | ${issues(validation)}`;
          }),
        );
        expect(verdicts[1], `${scene}: ${step}`).toBe(verdicts[0]);
        seen.push(verdicts[0]!.split(' ')[0]!);
      }
    }
    // The cases are not all one verdict: the controller acts on some keyframes and refuses others.
    expect(seen).toContain('act');
  }, 120_000);
});
