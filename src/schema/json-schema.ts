import { z } from 'zod';
import { Plan } from './plan.js';
import { RobotProfile } from './robot-profile.js';

/** The JSON Schema documents keystep ships, with where each lives in the package. */
export function schemaDocuments(): { file: string; schema: unknown }[] {
  return [
    { file: 'robots/robot-profile.schema.json', schema: { ...z.toJSONSchema(RobotProfile, { io: 'input', unrepresentable: 'any' }), title: 'keystep robot profile' } },
    { file: 'plans/plan.schema.json', schema: { ...z.toJSONSchema(Plan, { io: 'input', unrepresentable: 'any' }), title: 'keystep plan' } },
  ];
}
