import type { RedisOptions } from 'bullmq';
import { UsageError } from '../errors/usage-error.js';

/**
 * `redis://[user:password@]host[:port][/db]` as ioredis options. Every connection keystep opens to the
 * queue waits out a Redis restart instead of failing its commands: no per-request retry limit (BullMQ
 * requires that of a worker) and reconnect attempts every second at most, forever.
 */
export function redisOptions(url: string, command: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--queue: "${url}" is not a URL; write redis://host:6379`, command);
  }
  if (parsed.protocol !== 'redis:') throw new UsageError(`--queue: "${url}" is not a redis:// URL; write redis://host:6379`, command);
  if (parsed.hostname === '') throw new UsageError(`--queue: "${url}" names no host; write redis://host:6379`, command);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new UsageError(`--queue: "${db}" is not a database number (redis://host:6379/0)`, command);
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(db !== '' ? { db: Number(db) } : {}),
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(100 * times, 1000),
  };
}
