import { z } from 'zod';
import { LeaseRequest, LeaseState } from './lease.js';
import { Plan } from './plan.js';
import { RobotProfile } from './robot-profile.js';
import { StepCommand } from './step-command.js';
import { StepFeedback } from './step-feedback.js';

/** The JSON Schema documents keystep ships, with where each lives in the package. */
export function schemaDocuments(): { file: string; schema: unknown }[] {
  const doc = (schema: z.ZodType, title: string, io: 'input' | 'output' = 'input') => ({ ...z.toJSONSchema(schema, { io, unrepresentable: 'any' }), title });
  return [
    { file: 'robots/robot-profile.schema.json', schema: doc(RobotProfile, 'keystep robot profile') },
    { file: 'plans/plan.schema.json', schema: doc(Plan, 'keystep plan') },
    // The robot integration kit: what a robot node reads (commands, lease requests) and writes (feedback, lease state).
    { file: 'robot-kit/schemas/step-command.schema.json', schema: doc(StepCommand, 'keystep step command (JSON in std_msgs/String on the step topic)') },
    { file: 'robot-kit/schemas/step-feedback.schema.json', schema: doc(StepFeedback, 'keystep step feedback (JSON in std_msgs/String on the feedback topic)') },
    { file: 'robot-kit/schemas/lease-request.schema.json', schema: doc(LeaseRequest, 'keystep lease request (JSON in std_msgs/String on the lease topic)') },
    { file: 'robot-kit/schemas/lease-state.schema.json', schema: doc(LeaseState, 'keystep lease state (JSON in std_msgs/String on the lease state topic)') },
  ];
}
