/**
 * A bench script's flags, parsed strictly: `--name value` and `--name=value` both work (a negative
 * number needs the second form), and an unknown flag or a value out of its range stops the script
 * with exit 2 naming it. A mistyped flag that was skipped would measure the defaults while the
 * figures read as if it had applied. Values are checked by the keystep CLI's own flag helpers, so a
 * bench script and the command it measures refuse the same inputs the same way.
 */
import { parseArgs } from 'node:util';
import { choiceFlag, intFlag, numberFlag } from '../src/cli/args.js';

type Kinds = Record<string, 'string' | 'boolean'>;
type Values<T extends Kinds> = { [K in keyof T]: T[K] extends 'boolean' ? boolean : string | undefined };
type Range = { min: number; max: number };

export interface BenchFlags<T extends Kinds> {
  values: Values<T>;
  /** The flag as a whole number in `range`, `fallback` when it was not given. */
  int<F extends number | undefined>(name: keyof T & string, fallback: F, range: Range): number | F;
  /** The flag as a number in `range`, `fallback` when it was not given. */
  number<F extends number | undefined>(name: keyof T & string, fallback: F, range: Range): number | F;
  /** The flag as whole numbers in `range` separated by commas (`--k 1,2,4`), `fallback` when it was not given. */
  ints(name: keyof T & string, fallback: readonly number[], range: Range): number[];
  /** The flag as one of `choices`, `fallback` when it was not given. */
  choice<C extends string, F extends C | undefined>(name: keyof T & string, choices: readonly C[], fallback: F): C | F;
}

export function benchFlags<const T extends Kinds>(usage: string, kinds: T): BenchFlags<T> {
  const options = Object.fromEntries(Object.entries(kinds).map(([name, type]) => [name, { type }]));
  const values = orExit(usage, () => parseArgs({ options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>);
  const raw = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  return {
    values: Object.fromEntries(Object.entries(kinds).map(([name, type]) => [name, type === 'boolean' ? values[name] === true : raw(name)])) as Values<T>,
    int: (name, fallback, range) => (raw(name) === undefined ? fallback : orExit(usage, () => intFlag('bench', name, raw(name), 0, range))),
    number: (name, fallback, range) => (raw(name) === undefined ? fallback : orExit(usage, () => numberFlag('bench', name, raw(name), 0, range))),
    ints: (name, fallback, range) => (raw(name) === undefined ? [...fallback] : raw(name)!.split(',').map((item) => orExit(usage, () => intFlag('bench', name, item, 0, range)))),
    choice: (name, choices, fallback) => (raw(name) === undefined ? fallback : orExit(usage, () => choiceFlag('bench', name, raw(name), choices))),
  };
}

/** `parse()`, or the script stops with exit 2: the refusal and the usage line, no stack trace. */
function orExit<R>(usage: string, parse: () => R): R {
  try {
    return parse();
  } catch (e) {
    console.error(`${(e as Error).message}\nusage: ${usage}`);
    process.exit(2);
  }
}
