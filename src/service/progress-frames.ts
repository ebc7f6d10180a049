import type { PlanProgress } from '../planner/plan-progress.js';
import type { KeyframeFrame, PassFrame, StepFrame } from './plan-stream-frames.js';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/**
 * A planner's progress as the frames a viewer gets (plan-stream-frames.ts): one `step` per step text,
 * one `pass` per DiDA pass with its picture painted, one `keyframe` per kept keyframe. Used by
 * /v1/plans/stream and by a run's /drawing socket, so both say the same thing the same way.
 */
export async function framesOf(progress: PlanProgress): Promise<(StepFrame | PassFrame | KeyframeFrame)[]> {
  switch (progress.type) {
    case 'texts':
      // One frame per step; the texts are settled (gated) before any keyframe is drawn.
      return progress.texts.map((instruction, index) => ({ type: 'step', index, instruction }));
    case 'pass': {
      const { picture, type, ...rest } = progress;
      return [{ type, ...rest, picture: b64(await picture()) }];
    }
    case 'keyframe':
      return [{ type: 'keyframe', step: progress.step, instruction: progress.instruction, keyframe: b64(progress.keyframe) }];
  }
}
