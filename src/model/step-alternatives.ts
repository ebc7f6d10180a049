import { forbidAt, forceAt, logProbTap, maxTokens, type LogitsProcessor, type StoppingCriterion } from './generation.js';

/** What the search for other step texts needs of a model, whatever its pictures are (VQ codes or palette cells). */
export interface StepTextModel {
  encodeText(text: string): number[];
  decodeText(ids: readonly number[]): string;
  /** The ids that end a step: SEP and EOS. */
  ends: readonly number[];
  /** Keeps only word ids and `ends` possible. */
  wordsOnly: LogitsProcessor;
  /** Most tokens that still fit after the prompt. */
  room: number;
  /** Greedy generation after the prompt (the plan prompt and the steps kept) with these parts. */
  continueGreedy(processors: LogitsProcessor[], stopping: StoppingCriterion[]): Promise<number[]>;
}

/**
 * The model's most likely texts for the next step that are none of `refused`, best first, each with
 * its log-probability. For every refused text and every word position, the text is kept up to that
 * word, the word is forbidden, with the word every other refused text of the same beginning has
 * there (at the end: the step may not stop there), and the step is completed greedily: the best
 * single departure from all the refused texts at each point. Sampling cannot do this job when the
 * model is sure: a shirt whose half fold stopped at 60 % looks folded, and 40 of 40 samples at
 * temperature 1 say "move the folded shirt aside", which the robot cannot do yet.
 */
export async function stepAlternatives(model: StepTextModel, refusedTexts: readonly string[]): Promise<{ text: string; logProb: number }[]> {
  const { ends } = model;
  const canonical = (text: string) => model.decodeText(model.encodeText(text));
  const refused = new Set(refusedTexts.map(canonical));
  const encoded = [...refused].map((t) => model.encodeText(t));
  const best = new Map<string, number>();
  const tried = new Set<string>();
  for (const ids of encoded) {
    for (let j = 0; j <= ids.length; j++) {
      // Word j departs from every refused text that shares this one's first j words (stopping, for
      // those that end there): after "pick up the cup ..." and "pick up the collar ..." were both
      // refused, the departure after "pick up the" is neither cup nor collar. Each prefix once.
      const prefix = ids.slice(0, j);
      const forbidden = [...new Set(encoded.filter((o) => o.length >= j && prefix.every((id, i) => o[i] === id)).flatMap((o) => (j < o.length ? [o[j]!] : ends)))];
      const key = `${prefix.join(',')}|${forbidden.sort((a, b) => a - b).join(',')}`;
      if (tried.has(key)) continue;
      tried.add(key);
      const tap = logProbTap();
      // The refused words before j are forced, the departing words (or stopping) are forbidden.
      const keepPrefix: LogitsProcessor = (logits, ctx) => forceAt((step) => step < j, ids[ctx.step]!)(logits, ctx);
      const depart = forbidAt((step) => step === j, forbidden);
      const generated = await model.continueGreedy(
        [model.wordsOnly, tap.processor, keepPrefix, depart],
        [(g) => ends.includes(g[g.length - 1]!), maxTokens(Math.min(j + 24, model.room))],
      );
      const alternative = model.decodeText(generated);
      if (alternative === '' || refused.has(alternative)) continue;
      const logProb = tap.logProbOf(generated);
      if (!(best.get(alternative)! >= logProb)) best.set(alternative, logProb);
    }
  }
  return [...best].map(([text, logProb]) => ({ text, logProb })).sort((a, b) => b.logProb - a.logProb);
}
