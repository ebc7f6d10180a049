/**
 * A bench script's flags, parsed strictly: `--name value` and `--name=value` both work (a negative
 * number needs the second form), and an unknown flag or a value that is not a number stops the script
 * with exit 2 naming it. A mistyped flag that was skipped would measure the defaults while the
 * figures read as if it had applied.
 */
import { parseArgs } from 'node:util';

type Kinds = Record<string, 'string' | 'boolean'>;
type Values<T extends Kinds> = { [K in keyof T]: T[K] extends 'boolean' ? boolean : string | undefined };

export interface BenchFlags<T extends Kinds> {
  values: Values<T>;
  /** The flag as a finite number, `fallback` when it was not given. */
  number<F extends number | undefined>(name: keyof T & string, fallback: F): number | F;
  /** The flag as one of `choices`, `fallback` when it was not given. */
  choice<C extends string, F extends C | undefined>(name: keyof T & string, choices: readonly C[], fallback: F): C | F;
}

export function benchFlags<const T extends Kinds>(usage: string, kinds: T): BenchFlags<T> {
  const options = Object.fromEntries(Object.entries(kinds).map(([name, type]) => [name, { type }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ options, strict: true, allowPositionals: false }));
  } catch (e) {
    fail(`${(e as Error).message}\nusage: ${usage}`);
  }
  const out = Object.fromEntries(Object.entries(kinds).map(([name, type]) => [name, type === 'boolean' ? values[name] === true : values[name]])) as Values<T>;
  return {
    values: out,
    number(name, fallback) {
      const raw = values[name];
      if (typeof raw !== 'string') return fallback;
      const value = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(value)) fail(`--${name} takes a number, not ${JSON.stringify(raw)}\nusage: ${usage}`);
      return value;
    },
    choice(name, choices, fallback) {
      const raw = values[name];
      if (typeof raw !== 'string') return fallback;
      if (!(choices as readonly string[]).includes(raw)) fail(`--${name} must be ${choices.join(' or ')}, not ${JSON.stringify(raw)}\nusage: ${usage}`);
      return raw as (typeof choices)[number];
    },
  };
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}
