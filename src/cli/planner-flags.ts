import { readFileSync } from 'node:fs';
import { UsageError } from '../errors/usage-error.js';
import { RemotePlanner } from '../planner/remote-planner.js';

/**
 * `--planner <url>` and `--planner-token-file <file>`: a RemotePlanner on a running keystep serve, or
 * undefined when the command plans in-process.
 */
export function plannerFlags(command: string, values: { planner?: string | undefined; 'planner-token-file'?: string | undefined; seed?: string | undefined }): RemotePlanner | undefined {
  const url = values.planner;
  if (url === undefined) {
    if (values['planner-token-file'] !== undefined) throw new UsageError('--planner-token-file goes with --planner <url>', command);
    return undefined;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--planner "${url}" is not a URL; give the service's address, e.g. http://gpu-host:8080`, command);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`--planner "${url}" must be an http:// or https:// address of keystep serve`, command);
  let token: string | undefined;
  const file = values['planner-token-file'];
  if (file !== undefined) {
    try {
      token = readFileSync(file, 'utf8').trim();
    } catch (e) {
      throw new UsageError(`--planner-token-file ${file} cannot be read: ${(e as Error).message}`, command);
    }
    if (token === '') throw new UsageError(`--planner-token-file ${file} is empty`, command);
  }
  const seed = values.seed === undefined ? 0 : Number(values.seed);
  return new RemotePlanner({ url: parsed.toString().replace(/\/$/, ''), ...(token !== undefined ? { token } : {}), seed: Number.isInteger(seed) ? seed : 0 });
}
