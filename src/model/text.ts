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
