import { z } from 'zod';

/**
 * The robot lease: one executor drives a robot at a time. The robot keeps the lease (it is the one
 * place every executor reaches); keystep asks for it on the lease topic and renews it while it runs,
 * and the robot answers every request on the lease state topic. Both are JSON in std_msgs/String, like
 * step commands, so a robot needs no custom message or service types (a rospy node cannot define a
 * service type without a catkin package).
 *
 * The robot's rules (sim/robot-node.ts and robot-kit/keystep_core.py implement them):
 *  - `acquire` is granted when nobody holds the lease, the holder's lease has expired, or the asker
 *    already holds it (a renewal, or a `--resume` of the same run); a grant holds for `ttlMs` from
 *    the robot's receipt. Otherwise it is refused, and the answer names the holder.
 *  - `release` frees the lease if the asker holds it.
 *  - `query` changes nothing; the answer says who holds it.
 * Expiry is measured on the robot's clock only (`expiresInMs`), so clocks need not agree.
 */

const RunId = z.string().min(1).regex(/^[A-Za-z0-9._-]+$/);

export const LeaseRequest = z.strictObject({
  kind: z.enum(['acquire', 'release', 'query']),
  runId: RunId,
  /** How long an `acquire` holds without renewal (keystep renews three times per ttl). */
  ttlMs: z.number().int().min(1000).max(600_000).optional(),
  /** Counts the asker's requests, so it can tell the answer to this one from an older one. */
  seq: z.number().int().min(0),
});
export type LeaseRequest = z.infer<typeof LeaseRequest>;

export const LeaseState = z.strictObject({
  /** The run id holding the lease, or null when it is free. */
  holder: z.string().min(1).nullable(),
  /** Time left on the holder's lease, on the robot's clock. */
  expiresInMs: z.number().min(0).optional(),
  /** The request this state answers. */
  answer: z
    .strictObject({
      kind: LeaseRequest.shape.kind,
      runId: RunId,
      seq: z.number().int().min(0),
      /** acquire: the asker holds the lease now; release: it was the asker's and is free; query: free or the asker's. */
      granted: z.boolean(),
    })
    .optional(),
  /** Robot clock, ms since epoch. */
  stamp: z.number(),
});
export type LeaseState = z.infer<typeof LeaseState>;

/**
 * The robot side of the lease as a pure state machine: what the sim robot runs, and what the
 * reference robot node (robot-kit/keystep_core.py) mirrors. `now` is the robot's clock in ms.
 */
export class LeaseHolder {
  private holder: string | null = null;
  private expiresAt = 0;

  constructor(private readonly defaultTtlMs = 10_000) {}

  /** The run holding the lease at `now`, or null. */
  current(now: number): string | null {
    if (this.holder !== null && now >= this.expiresAt) this.holder = null;
    return this.holder;
  }

  handle(request: LeaseRequest, now: number): LeaseState {
    this.current(now);
    let granted: boolean;
    switch (request.kind) {
      case 'acquire':
        granted = this.holder === null || this.holder === request.runId;
        if (granted) {
          this.holder = request.runId;
          this.expiresAt = now + (request.ttlMs ?? this.defaultTtlMs);
        }
        break;
      case 'release':
        granted = this.holder === request.runId;
        if (granted) this.holder = null;
        break;
      case 'query':
        granted = this.holder === null || this.holder === request.runId;
        break;
    }
    return {
      holder: this.holder,
      ...(this.holder !== null ? { expiresInMs: Math.max(0, this.expiresAt - now) } : {}),
      answer: { kind: request.kind, runId: request.runId, seq: request.seq, granted },
      stamp: now,
    };
  }
}
