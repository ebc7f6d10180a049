/**
 * Shared pieces of instruction parsing. Each scene owns its grammar (verbs, objects, targets); this
 * module only tokenises, finds vocabulary phrases, reads arm phrases, and reports leftover words so
 * an unparseable instruction can say which words it did not understand.
 */

/** Words that carry no meaning for a robot: articles, courtesy, filler. */
export const STOPWORDS = new Set([
  'the', 'a', 'an', 'of', 'to', 'into', 'in', 'onto', 'on', 'up', 'and', 'then', 'it', 'its', 'please',
  'with', 'using', 'from', 'over', 'at', 'by', 'so', 'that', 'is', 'are', 'now', 'together', 'together,',
  'gently', 'carefully', 'neatly', 'one', 'this', 'there', 'out', 'down', 'back', 'towards', 'toward',
]);

export interface Tokens {
  words: string[];
  /** Indexes of words a phrase has consumed. */
  used: Set<number>;
}

/** Lower-case words; "T-shirt" -> "tshirt", punctuation dropped, "left-hand" -> "left hand". */
export function tokenize(text: string): Tokens {
  const words = text
    .toLowerCase()
    .replace(/t-shirt|tee-shirt|t shirt/g, 'tshirt')
    .replace(/[^a-z0-9\s-]/g, ' ')
    .replace(/-/g, ' ')
    .split(/\s+/)
    .filter((w) => w.length > 0);
  return { words, used: new Set() };
}

/**
 * Finds the first phrase of any vocabulary entry in the unused words (longest phrases first) and marks
 * its words used. Returns the entry id, or undefined.
 */
export function takePhrase(tokens: Tokens, vocab: Record<string, readonly string[]>): string | undefined {
  const entries: { id: string; phrase: string[] }[] = [];
  for (const [id, phrases] of Object.entries(vocab)) {
    for (const p of phrases) entries.push({ id, phrase: p.split(' ') });
  }
  entries.sort((a, b) => b.phrase.length - a.phrase.length);
  for (const { id, phrase } of entries) {
    for (let i = 0; i + phrase.length <= tokens.words.length; i++) {
      let match = true;
      for (let k = 0; k < phrase.length; k++) {
        if (tokens.used.has(i + k) || tokens.words[i + k] !== phrase[k]) {
          match = false;
          break;
        }
      }
      if (match) {
        for (let k = 0; k < phrase.length; k++) tokens.used.add(i + k);
        return id;
      }
    }
  }
  return undefined;
}

/**
 * Reads which arms an instruction names: "left arm", "right hand", "both arms", "both hands",
 * "left and right hands". Returns undefined when it names none (any arm may do it).
 */
export function takeArms(tokens: Tokens, armNames: readonly string[]): string[] | undefined {
  const limb = new Set(['arm', 'arms', 'hand', 'hands', 'gripper', 'grippers']);
  const w = tokens.words;
  for (let i = 0; i < w.length; i++) {
    if (tokens.used.has(i)) continue;
    if (w[i] === 'both' && i + 1 < w.length && limb.has(w[i + 1]!)) {
      tokens.used.add(i).add(i + 1);
      return armNames.length >= 2 ? armNames.slice(0, 2) : ['left', 'right'];
    }
  }
  const named: string[] = [];
  for (let i = 0; i < w.length; i++) {
    if (tokens.used.has(i)) continue;
    const word = w[i]!;
    if ((word === 'left' || word === 'right') && i + 1 < w.length && limb.has(w[i + 1]!)) {
      tokens.used.add(i).add(i + 1);
      named.push(word);
    } else if ((word === 'left' || word === 'right') && w[i + 1] === 'and' && (w[i + 2] === 'left' || w[i + 2] === 'right')) {
      tokens.used.add(i).add(i + 1);
      named.push(word);
    }
  }
  // "with the arm" on a one-arm robot.
  if (named.length === 0 && armNames.length === 1) {
    for (let i = 0; i < w.length; i++) {
      if (!tokens.used.has(i) && (w[i] === 'arm' || w[i] === 'gripper' || w[i] === 'hand')) {
        tokens.used.add(i);
        return [armNames[0]!];
      }
    }
  }
  return named.length > 0 ? [...new Set(named)] : undefined;
}

/** Marks the first unused occurrence of any of `words` used; true if one was found. */
export function takeWord(tokens: Tokens, words: readonly string[]): boolean {
  for (let i = 0; i < tokens.words.length; i++) {
    if (!tokens.used.has(i) && words.includes(tokens.words[i]!)) {
      tokens.used.add(i);
      return true;
    }
  }
  return false;
}

/** Words neither consumed by a phrase nor stopwords: what the parser did not understand, each once. */
export function leftoverWords(tokens: Tokens): string[] {
  return [...new Set(tokens.words.filter((w, i) => !tokens.used.has(i) && !STOPWORDS.has(w)))];
}

/** Words as a quoted list for a message: "a", "b". */
export function quoteWords(words: readonly string[]): string {
  return words.map((w) => `"${w}"`).join(', ');
}

const QUOTE_CHARS = 80;

/**
 * An instruction quoted in a message, cut after 80 characters: a model that loops writes a step of
 * hundreds of words, and the message must still fit a terminal line or two.
 */
export function quoteText(text: string): string {
  if (text.length <= QUOTE_CHARS) return `"${text}"`;
  const cut = text.slice(0, QUOTE_CHARS).replace(/\s+\S*$/, '');
  return `"${cut} ..." (${text.split(/\s+/).length} words)`;
}
