export * from './action.js';
export * from './plan.js';
export * from './robot-profile.js';
export * from './step-command.js';
export * from './step-feedback.js';
export * from './task.js';
export * from './history.js';
export * from './plan-issue.js';
