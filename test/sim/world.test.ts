import { describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profile/load.js';
import { StepFeedback } from '../../src/schema/step-feedback.js';
import { renderCamera } from '../../sim/render.js';
import { SimWorld } from '../../sim/world.js';

describe('sim world', () => {
  it('runs a step id once, and refuses a late command of a run that ended at a reset', async () => {
    const profile = loadProfile('agibot-g1');
    const world = new SimWorld({ profile, scene: 'table', task: 'clear the table', seed: 1, missRate: 0 });
    const [first] = world.oracle();
    const keyframe = await renderCamera(world.scene, first!.next, profile.cameras[0]!);
    const command = { kind: 'execute' as const, runId: 'old-run', stepIndex: 0, attempt: 0, instruction: first!.instruction };
    const result = await world.execute(command, keyframe);
    expect(result.status).toBe('done');
    // The feedback says what each gripper holds now: the picked object in the acting arm's.
    const picker = first!.action.arms[0]!;
    expect(result.holding).toEqual(Object.fromEntries(profile.arms.map((a) => [a.name, a.name === picker ? first!.action.object : null])));
    expect(StepFeedback.parse(result)).toEqual(result);
    expect(await world.execute(command, keyframe)).toMatchObject({ status: 'done', duplicate: true });
    expect(world.history).toHaveLength(1);

    world.reset(2);
    const fresh = structuredClone(world.state);
    const late = await world.execute({ ...command, stepIndex: 1 }, keyframe);
    expect(late.status).toBe('rejected');
    expect(late.reason).toContain('old-run ended before the scene was reset');
    expect(world.state).toEqual(fresh);
    expect(world.history).toEqual([]);
    // A new run is served as usual.
    const [next] = world.oracle();
    const ok = await world.execute({ ...command, runId: 'new-run' , instruction: next!.instruction }, await renderCamera(world.scene, next!.next, profile.cameras[0]!));
    expect(ok.status).toBe('done');
  });
});
