import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors/usage-error.js';
import { parseDevice } from '../model/onnx-session.js';
import type { ModelSource } from '../model/world-model.js';

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

/** The help lines of --model and --devices, with the descriptions from `column` like the command's others. */
export function modelFlagsHelp(column = 22): string {
  const line = (flag: string, text: string) => `  ${flag}`.padEnd(column) + text;
  return [
    line('--model <dir>', "the embedded model's directory (default: the shipped models/, a palette-patch"),
    line('', 'model; models/vq is the VQ model): either kind, as its spec.json says'),
    line('--devices <list>', 'one model session per device, requests spread over them, comma-separated:'),
    line('', 'cpu, cuda:0, cuda:1 ... (default cpu; CUDA: npm ci --onnxruntime-node-install=cuda12)'),
  ].join('\n');
}

/** Where the embedded model comes from: `--model <dir>` and `--devices cpu,cuda:0,...`. */
export function modelFlags(command: string, values: { model?: string | undefined; devices?: string | undefined }): ModelSource {
  const flags: { dir?: string; devices?: string[] } = {};
  if (values.model !== undefined) {
    if (values.model.trim() === '') throw new UsageError('--model needs a directory, e.g. --model models', command);
    flags.dir = values.model;
  }
  if (values.devices !== undefined) {
    flags.devices = values.devices.split(',').map((d) => {
      try {
        return parseDevice(d.trim());
      } catch {
        throw new UsageError(`--devices: "${d}" is not cpu or cuda:<n> (e.g. --devices cpu or --devices cuda:0,cuda:1)`, command);
      }
    });
  }
  return flags;
}

/** A run id names one folder inside the runs folder: no separators, no "." or "..", nothing hidden. */
const RUN_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

export function isRunId(raw: string): boolean {
  return RUN_ID.test(raw) && !raw.includes('..');
}

export function runIdFlag(command: string, name: string, raw: string): string {
  if (!isRunId(raw)) {
    throw new UsageError(`--${name} must be a run id (letters, digits, ".", "_" and "-", not starting with "."; it names a folder inside the runs folder), got "${raw}"`, command);
  }
  return raw;
}
