import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profile/load.js';
import { decide } from '../../sim/controller.js';
import { renderCamera } from '../../sim/render.js';
import { SimWorld } from '../../sim/world.js';

const agilex = loadProfile('aloha-agilex');
const agibot = loadProfile('agibot-g1');

async function blur(png: Uint8Array, w: number, h: number): Promise<Uint8Array> {
  const small = await sharp(png).resize(w, h).png().toBuffer();
  return new Uint8Array(await sharp(small).resize(640, 480).png().toBuffer());
}

describe('goal-conditioned sim controller', () => {
  it('lets the keyframe decide what the words leave open (which rack slot)', async () => {
    const world = new SimWorld({ profile: agibot, scene: 'table', task: 'clear the table', seed: 4, missRate: 0 });
    const [pick] = world.oracle();
    world.state = pick!.next;
    const parsed = world.scene.parseInstruction('put the cup in the rack', agibot);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const found = world.scene.candidates(world.state, parsed.template, agibot);
    if (!found.ok) throw new Error(found.reason);
    expect(found.candidates.length).toBeGreaterThanOrEqual(3);
    for (const candidate of found.candidates) {
      const keyframe = await renderCamera(world.scene, candidate.next, agibot.cameras[0]!);
      const decision = await decide(world.scene, agibot, world.state, 'put the cup in the rack', keyframe);
      expect(decision.kind).toBe('act');
      if (decision.kind === 'act') expect(decision.action.slot).toBe(candidate.action.slot);
    }
  });

  it('accepts a blurred keyframe of the right outcome, as a decoder would draw it', async () => {
    const world = new SimWorld({ profile: agilex, scene: 'tshirt', task: 'fold the t-shirt', seed: 8, missRate: 0 });
    let state = world.state;
    for (const step of world.oracle()) {
      const keyframe = await blur(await renderCamera(world.scene, step.next, agilex.cameras[0]!), 64, 48);
      const decision = await decide(world.scene, agilex, state, step.instruction, keyframe);
      expect(decision.kind, step.instruction).toBe('act');
      if (decision.kind === 'act') expect(decision.next).toEqual(step.next);
      state = step.next;
    }
  });

  it('accepts every step of a true table plan drawn as coarsely as a VQ decoder draws thin strokes (40x30)', async () => {
    // A pick-up changes a few thin strokes (a jaw leaves home, a jaw and a shadow at the object). The
    // progress test compares blurred pictures (progressBlur), so a keyframe that shows the change
    // smeared still shows it; unblurred, 3 to 5 of the 6 pick-ups of these plans were refused.
    for (const seed of [0, 1]) {
      const world = new SimWorld({ profile: agibot, scene: 'table', task: 'clear the table', seed, missRate: 0 });
      let state = world.state;
      const verdicts: string[] = [];
      for (const step of world.oracle()) {
        const keyframe = await blur(await renderCamera(world.scene, step.next, agibot.cameras[0]!), 40, 30);
        const decision = await decide(world.scene, agibot, state, step.instruction, keyframe);
        verdicts.push(decision.kind === 'act' ? 'act' : `${step.instruction}: ${decision.reason}`);
        state = step.next;
      }
      expect(verdicts, `seed ${seed}`).toEqual(verdicts.map(() => 'act'));
    }
  });

  it("refuses, drawn just as coarsely, the other arm's pick-up and the unchanged scene", async () => {
    const world = new SimWorld({ profile: agibot, scene: 'table', task: 'clear the table', seed: 1, missRate: 0 });
    const [pick] = world.oracle();
    const arm = / the (left|right) arm$/.exec(pick!.instruction)?.[1];
    expect(arm).toBeDefined();
    const otherText = pick!.instruction.replace(/(left|right) arm$/, arm === 'left' ? 'right arm' : 'left arm');
    const parsed = world.scene.parseInstruction(otherText, agibot);
    if (!parsed.ok) throw new Error(parsed.reason);
    const other = world.scene.candidates(world.state, parsed.template, agibot);
    if (!other.ok || other.candidates.length === 0) throw new Error(`no outcome for "${otherText}"`);
    const camera = agibot.cameras[0]!;
    for (const wrong of [other.candidates[0]!.next, world.state]) {
      const keyframe = await blur(await renderCamera(world.scene, wrong, camera), 40, 30);
      const decision = await decide(world.scene, agibot, world.state, pick!.instruction, keyframe);
      expect(decision.kind).toBe('unreachable');
    }
  });

  it('refuses a keyframe showing the other sleeve folded, the unchanged scene, or an extra change', async () => {
    const world = new SimWorld({ profile: agilex, scene: 'tshirt', task: 'fold the t-shirt', seed: 2, missRate: 0 });
    const plan = world.oracle();
    const afterCollar = plan[0]!.next;
    expect(plan[1]!.instruction).toContain('left sleeve');
    // The right sleeve folded instead of the left one.
    const rightFirst = world.scene.candidates(afterCollar, { verb: 'fold', object: 'shirt', part: 'right_sleeve' }, agilex);
    if (!rightFirst.ok) throw new Error(rightFirst.reason);
    const camera = agilex.cameras[0]!;
    const cases = [
      await renderCamera(world.scene, rightFirst.candidates[0]!.next, camera),
      await renderCamera(world.scene, afterCollar, camera),
      await renderCamera(world.scene, plan[2]!.next, camera),
    ];
    for (const keyframe of cases) {
      const decision = await decide(world.scene, agilex, afterCollar, plan[1]!.instruction, keyframe);
      expect(decision.kind).toBe('unreachable');
      if (decision.kind === 'unreachable') expect(decision.reason).toMatch(/^keyframe unreachable/);
    }
  });

  it('rejects a keyframe that is not an image, and an instruction the robot cannot do', async () => {
    const world = new SimWorld({ profile: agibot, scene: 'table', task: 'clear the table', seed: 1, missRate: 0 });
    const notImage = await decide(world.scene, agibot, world.state, 'pick up the cup with the left arm', new Uint8Array([1, 2, 3]));
    expect(notImage).toMatchObject({ kind: 'reject' });
    const frame = await world.observe();
    const noArm = await decide(world.scene, agibot, world.state, 'pick up the cup with the third arm', frame);
    expect(noArm.kind).toBe('reject');
  });
});
