import { InvalidNameError } from './errors.js';

/**
 * ROS graph names. Clients may say `chatter` or `/chatter`; ROS resolves both against the bridge
 * node's namespace (`/`), so the registry keys on the resolved name while replies echo the name
 * each client used (roslib routes incoming messages by the exact string it subscribed with).
 */

/** rosbridge_server's node name; `~` in a name means this node's private namespace. */
const NODE_NAME = '/rosbridge_websocket';
const MAX_NAME_LENGTH = 1024;

function check(kind: 'topic' | 'service', name: string): string | undefined {
  if (name.length === 0) return `${kind} name must not be empty`;
  if (name.length > MAX_NAME_LENGTH) return `${kind} name must not be longer than ${MAX_NAME_LENGTH} characters`;
  if (!/^~?[A-Za-z0-9_/]*$/.test(name)) {
    return `${kind} name must not contain characters other than alphanumerics, '_', '/' or a leading '~'`;
  }
  if (name.startsWith('~') && name.length > 1 && name[1] !== '/') return `${kind} name may only use '~' as '~/...'`;
  if (name.includes('//')) return `${kind} name must not contain repeated '/'`;
  if (name.length > 1 && name.endsWith('/')) return `${kind} name must not end with '/'`;
  if (name === '/' || name === '~/') return `${kind} name must name something below the root`;
  if (name.split('/').some((token) => /^[0-9]/.test(token))) return `${kind} name tokens must not start with a number`;
  return undefined;
}

/** Resolves a client-supplied topic or service name to its absolute form; throws {@link InvalidNameError}. */
export function resolveName(kind: 'topic' | 'service', name: string): string {
  const problem = check(kind, name);
  if (problem !== undefined) throw new InvalidNameError(kind, name, problem);
  if (name.startsWith('/')) return name;
  if (name === '~') return NODE_NAME;
  if (name.startsWith('~/')) return `${NODE_NAME}${name.slice(1)}`;
  return `/${name}`;
}
