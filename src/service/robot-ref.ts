import { zodProblems } from '../errors/format.js';
import { listProfiles, loadProfile } from '../profile/load.js';
import { RobotProfile } from '../schema/index.js';
import { ServiceError } from './service-error.js';

/**
 * The profile a request names: a shipped id (robots/<id>.json) or a whole profile sent inline,
 * checked here; a bad one is a 400 naming each bad field under `path` (body.robot.arms[0].dof).
 */
export function resolveRobot(ref: string | Record<string, unknown>, path = 'body.robot'): { profile: RobotProfile; inline: boolean } {
  if (typeof ref !== 'string') {
    const parsed = RobotProfile.safeParse(ref);
    if (!parsed.success) {
      const issues = zodProblems(parsed.error).map((p) => ({ path: p.path === '(root)' ? path : `${path}${p.path.startsWith('[') ? '' : '.'}${p.path}`, message: p.message }));
      throw new ServiceError(400, 'bad_request', issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
    }
    return { profile: parsed.data, inline: true };
  }
  // Only ids from the list: loadProfile would also read any path it is given.
  const known = listProfiles();
  if (!known.includes(ref)) throw ServiceError.badField(path, `unknown robot "${ref}": use one of ${known.join(', ')}, or send a whole profile`);
  return { profile: loadProfile(ref), inline: false };
}
