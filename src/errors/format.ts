import type { z } from 'zod';

/** A zod issue path as people write it: arms[1].workspace.min */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

/** Zod issues as `{ path, message }`, unknown keys spelt out so a typo is easy to find. */
export function zodProblems(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return { path: formatPath(issue.path), message: `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}` };
    }
    return { path: formatPath(issue.path), message: issue.message };
  });
}
