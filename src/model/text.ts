/**
 * Word splitting shared by the dataset export and the runtime tokenizer (the Python side mirrors it in
 * models/spec.py): lower case, words and punctuation apart. The vocabulary is tiny and closed — the
 * oracle's instruction and task phrases — which is all a sim-trained world model can say.
 */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+(?:-[a-z0-9]+)*|[^\sa-z0-9]/g) ?? [];
}

/** Words back to text: spaces between words, none before punctuation. */
export function joinWords(items: readonly string[]): string {
  return items.reduce((acc, w) => (acc === '' ? w : /^[.,;:!?]$/.test(w) ? acc + w : `${acc} ${w}`), '');
}

/** Generated step ids (up to EOS, SEP between steps) to the step texts, empty steps dropped. */
export function splitSteps(ids: readonly number[], roles: { sep: number; eos: number }, decode: (ids: readonly number[]) => string): string[] {
  const steps: string[] = [];
  let current: number[] = [];
  for (const id of ids) {
    if (id === roles.eos) break;
    if (id === roles.sep) {
      steps.push(decode(current));
      current = [];
    } else current.push(id);
  }
  if (current.length > 0) steps.push(decode(current));
  return steps.filter((s) => s.length > 0);
}
