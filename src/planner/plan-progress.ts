/**
 * What a planner reports while it plans (PlanRequest.onProgress), for a viewer watching a plan being
 * written: the step texts once they are settled, each pass of each keyframe as it resolves, and each
 * keyframe once it is kept. Reporting never changes the plan.
 */
export type PlanProgress =
  | { type: 'texts'; texts: readonly string[] }
  | {
      type: 'pass';
      /** The step whose keyframe this is. */
      step: number;
      /** Which draw of that keyframe (a refused keyframe is drawn again). */
      draw: number;
      /** 0-based; pass passes - 1 is the whole keyframe. */
      pass: number;
      passes: number;
      /** Cells filled so far, of `cells`. */
      filled: number;
      cells: number;
      /** The keyframe as known after this pass, as a PNG (open cells show the picture it starts from); made only when asked for. */
      picture: () => Promise<Uint8Array>;
    }
  | { type: 'keyframe'; step: number; instruction: string; keyframe: Uint8Array };

export type PlanProgressListener = (progress: PlanProgress) => void;
