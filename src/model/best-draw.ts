/**
 * Draws `draw(0)` ... `draw(n - 1)`, and on until one passes or `tries` draws are made, and keeps the
 * draw with the fewest errors, the one with the largest `change` among those, the earliest on a tie
 * (OnnxPlannerOptions.missedDraws). `redraws` counts the draws after the first.
 */
export async function boldestPassing<T>(
  n: number,
  tries: number,
  draw: (k: number) => Promise<T>,
  errorsOf: (value: T) => Promise<number>,
  change: (value: T) => number,
): Promise<{ value: T; redraws: number }> {
  let best: { value: T; errors: number; change: number } | null = null;
  let k = 0;
  for (; k < Math.max(n, tries); k++) {
    if (k >= n && best !== null && best.errors === 0) break;
    const value = await draw(k);
    const errors = await errorsOf(value);
    const c = change(value);
    if (best === null || errors < best.errors || (errors === best.errors && c > best.change)) best = { value, errors, change: c };
  }
  return { value: best!.value, redraws: k - 1 };
}

/**
 * Draws `draw(0)`, then `draw(1)`, ... until a draw has no errors or `tries` draws are made, and keeps
 * the draw with the fewest errors (the earliest on a tie): boldestPassing with one draw asked for and
 * no change to prefer. `redraws` counts the draws after the first.
 */
export function leastRefused<T>(tries: number, draw: (k: number) => Promise<T>, errorsOf: (value: T) => Promise<number>): Promise<{ value: T; redraws: number }> {
  return boldestPassing(1, tries, draw, errorsOf, () => 0);
}
