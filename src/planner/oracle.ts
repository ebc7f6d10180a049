import { z } from 'zod';
import { Action } from '../schema/action.js';
import type { RosConnection } from '../ros/connection.js';
import { bytesOf } from '../ros/messages.js';
import { callIdempotentService } from '../ros/service-call.js';
import type { Planner, PlanDraft, PlanRequest } from './planner.js';

/** Where the simulator serves its oracle (sim/robot-node.ts advertises it). */
export const ORACLE_SERVICE = { name: '/keystep/sim/oracle', type: 'keystep/OraclePlan' } as const;

const OracleResponse = z.object({
  steps: z.array(z.object({ instruction: z.string().min(1), action: Action.optional(), keyframe: z.string().min(1) })),
});

export class PlannerError extends Error {
  override readonly name = 'PlannerError' as const;
  constructor(message: string, readonly context: { backend: string; version?: number }, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The baseline backend: asks the simulator's oracle, which sees the true scene state, for the
 * remaining steps of the run's task and their keyframes. Only works against `keystep sim`; it is the yardstick the
 * embedded world model is measured against.
 */
export class OraclePlanner implements Planner {
  readonly name = 'oracle';

  constructor(private readonly connection: RosConnection, private readonly timeoutMs = 15_000) {}

  async plan(request: PlanRequest): Promise<PlanDraft> {
    let raw: unknown;
    try {
      // The task goes along: the oracle plans the run's task, not whatever task the sim was started with.
      raw = await callIdempotentService<{ task: string }, unknown>(this.connection, ORACLE_SERVICE.name, ORACLE_SERVICE.type, { task: request.task }, {
        timeoutMs: this.timeoutMs,
        ...(request.signal ? { signal: request.signal } : {}),
      });
    } catch (cause) {
      throw new PlannerError(`the sim oracle failed: ${(cause as Error).message}. The oracle backend only works against keystep sim.`, { backend: this.name, version: request.version }, { cause });
    }
    const parsed = OracleResponse.safeParse(raw);
    if (!parsed.success) {
      throw new PlannerError(`the sim oracle answered something that is not a plan: ${parsed.error.issues[0]?.message}`, { backend: this.name, version: request.version });
    }
    return {
      id: `${request.robot.id}-oracle`,
      version: request.version,
      backend: this.name,
      createdAt: new Date().toISOString(),
      ...(request.scene ? { scene: request.scene } : {}),
      steps: parsed.data.steps.map((s, index) => ({
        index,
        instruction: s.instruction,
        ...(s.action ? { action: s.action } : {}),
        keyframe: bytesOf(s.keyframe),
      })),
    };
  }
}
