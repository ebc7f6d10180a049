import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors/usage-error.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs, strict, with its errors turned into UsageErrors that name the command. */
export function parseFlags<O extends Options>(command: string, argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals });
  } catch (cause) {
    const message = (cause as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(`${message} (see keystep ${command} --help)`, command);
  }
}

export function intFlag(command: string, name: string, raw: string | undefined, fallback: number, range: { min: number; max: number }): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw new UsageError(`--${name} must be an integer from ${range.min} to ${range.max}, got "${raw}"`, command);
  }
  return value;
}

export function numberFlag(command: string, name: string, raw: string | undefined, fallback: number, range: { min: number; max: number }): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < range.min || value > range.max) {
    throw new UsageError(`--${name} must be a number from ${range.min} to ${range.max}, got "${raw}"`, command);
  }
  return value;
}

export function requiredFlag(command: string, name: string, raw: string | undefined, hint: string): string {
  if (raw === undefined || raw.trim() === '') throw new UsageError(`--${name} is required, e.g. --${name} ${hint}`, command);
  return raw;
}

export function choiceFlag<T extends string>(command: string, name: string, raw: string | undefined, choices: readonly T[], fallback?: T): T {
  if (raw === undefined) {
    if (fallback !== undefined) return fallback;
    throw new UsageError(`--${name} is required: one of ${choices.join(', ')}`, command);
  }
  if (!(choices as readonly string[]).includes(raw)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got "${raw}"`, command);
  }
  return raw as T;
}
