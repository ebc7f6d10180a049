import { listProfiles, loadProfile } from '../profile/load.js';
import type { RobotProfile } from '../schema/index.js';
import { ServiceError } from './service-error.js';

/** The profile a request names: a shipped id (robots/<id>.json) or one sent inline, already parsed. */
export function resolveRobot(ref: string | RobotProfile, path = 'body.robot'): { profile: RobotProfile; inline: boolean } {
  if (typeof ref !== 'string') return { profile: ref, inline: true };
  // Only ids from the list: loadProfile would also read any path it is given.
  const known = listProfiles();
  if (!known.includes(ref)) throw ServiceError.badField(path, `unknown robot "${ref}": use one of ${known.join(', ')}, or send a whole profile`);
  return { profile: loadProfile(ref), inline: false };
}
