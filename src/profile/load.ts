import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ProfileError } from '../errors/profile-error.js';
import { zodProblems } from '../errors/format.js';
import { ROBOTS_DIR } from '../paths.js';
import { RobotProfile } from '../schema/robot-profile.js';

/** Ids of the profiles shipped in robots/. */
export function listProfiles(dir = ROBOTS_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.endsWith('.schema.json'))
    .map((f) => basename(f, '.json'))
    .sort();
}

/** Parses profile JSON text; `file` only names the source in errors. */
export function parseProfile(text: string, file: string): RobotProfile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ProfileError(`${file}: not valid JSON (${(cause as Error).message}); fix the syntax and try again`, file, [], { cause });
  }
  const parsed = RobotProfile.safeParse(raw);
  if (!parsed.success) {
    const problems = zodProblems(parsed.error);
    const lines = problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
    throw new ProfileError(`${file}: invalid robot profile\n${lines}\n(see robots/robot-profile.schema.json)`, file, problems);
  }
  const expected = basename(file, '.json');
  if (file.endsWith('.json') && parsed.data.id !== expected) {
    const problems = [{ path: 'id', message: `is "${parsed.data.id}" but the file is named ${expected}.json` }];
    throw new ProfileError(`${file}: invalid robot profile\n  id: ${problems[0]!.message}; make them match`, file, problems);
  }
  return parsed.data;
}

/**
 * Loads a profile by id (robots/<id>.json) or by path (anything with a slash or ending in .json).
 * Fails fast with a ProfileError that names the file and every bad field.
 */
export function loadProfile(idOrPath: string, dir = ROBOTS_DIR): RobotProfile {
  const isPath = idOrPath.includes('/') || idOrPath.endsWith('.json');
  const file = isPath ? idOrPath : join(dir, `${idOrPath}.json`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    const known = isPath ? '' : ` Known robots: ${listProfiles(dir).join(', ')}.`;
    throw new ProfileError(`no robot profile at ${file}.${known}`, file, [], { cause });
  }
  return parseProfile(text, file);
}
