import type { RobotProfile } from '../../schema/index.js';
import { leftoverWords, quoteText, quoteWords, takeArms, takePhrase, takeWord, tokenize } from '../language.js';
import type { ActionTemplate, ParseResult, TaskResult, Vocabulary } from '../scene.js';
import type { FoldId, TshirtGoal } from './model.js';

/** Task phrases, the full fold first. */
export const TASKS = ['fold the t-shirt', 'fold the sleeves in', 'fold the t-shirt in place'] as const;

const GOALS: Record<(typeof TASKS)[number], TshirtGoal> = {
  'fold the t-shirt': { folds: ['left_sleeve', 'right_sleeve', 'bottom', 'half'], collar: true, aside: true },
  'fold the sleeves in': { folds: ['left_sleeve', 'right_sleeve'], collar: false, aside: false },
  'fold the t-shirt in place': { folds: ['left_sleeve', 'right_sleeve', 'bottom', 'half'], collar: true, aside: false },
};

export const VOCABULARY: Vocabulary = {
  objects: {
    shirt: ['tshirt', 'shirt', 'tee', 'tees', 'garment', 'cloth', 'top'],
  },
  parts: {
    left_sleeve: ['left sleeve', 'left arm sleeve', 'sleeve on the left'],
    right_sleeve: ['right sleeve', 'right arm sleeve', 'sleeve on the right'],
    sleeves: ['sleeves', 'both sleeves', 'two sleeves'],
    sleeve: ['sleeve'],
    bottom_left: ['bottom left corner', 'lower left corner', 'left bottom corner', 'bottom left', 'left corner', 'left hem corner'],
    bottom_right: ['bottom right corner', 'lower right corner', 'right bottom corner', 'bottom right', 'right corner', 'right hem corner'],
    bottom_corners: ['bottom corners', 'both bottom corners', 'lower corners', 'hem corners', 'both corners', 'two bottom corners', 'corners', 'bottom two corners'],
    bottom: ['bottom', 'hem', 'bottom hem', 'bottom edge', 'lower half', 'bottom half', 'lower edge'],
    half: ['in half', 'half', 'halves', 'in two'],
    collar: ['collar', 'neckline', 'neck', 'collar band'],
  },
  targets: {
    aside: ['aside', 'to the side', 'side', 'out of the way', 'away'],
    aside_left: ['to the left side', 'left side', 'to the left', 'aside to the left'],
    aside_right: ['to the right side', 'right side', 'to the right', 'aside to the right'],
  },
};

const VERBS: Record<'fold' | 'grasp' | 'tidy' | 'move' | 'release', string[]> = {
  fold: ['fold', 'folds', 'folding', 'fold over', 'tuck', 'tucks', 'bring', 'brings', 'flip', 'flips'],
  grasp: ['grasp', 'grasps', 'grab', 'grabs', 'grip', 'grips', 'hold', 'holds', 'pinch', 'pinches', 'take', 'takes', 'pick up', 'picks up', 'seize'],
  tidy: ['tidy', 'tidies', 'straighten', 'straightens', 'fix', 'fixes', 'smooth', 'smooths', 'flatten', 'flattens', 'neaten', 'neatens', 'uncrumple', 'unfold', 'unfolds', 'arrange'],
  release: ['release', 'releases', 'let go of', 'let go', 'lets go of', 'lets go', 'drop', 'drops', 'open', 'opens', 'unhand'],
  move: ['move', 'moves', 'put', 'puts', 'slide', 'slides', 'set', 'sets', 'place', 'places', 'push', 'pushes', 'lay', 'carry', 'carries'],
};

/** Words that shape a phrase but add nothing the template carries. */
const FILLERS: Record<string, string[]> = {
  fill: [
    'up to the collar', 'to the collar', 'toward the collar', 'towards the collar', 'up to the neck', 'to the neck',
    'to the neckline', 'to the shoulders', 'to the top', 'again', 'folded', 'inward', 'inwards', 'crumpled',
    'flat', 'over', 'lengthwise', 'its', 'edge',
  ],
};

export function parseInstruction(text: string, profile: RobotProfile): ParseResult {
  const tokens = tokenize(text);
  if (tokens.words.length === 0) return { ok: false, reason: 'could not parse "": the instruction is empty', unknownWords: [] };
  // Longest, most specific phrases first: "up to the collar" before "collar", targets before "left arm".
  while (takePhrase(tokens, FILLERS) !== undefined) { /* consume every filler */ }
  const target = takePhrase(tokens, VOCABULARY.targets);
  let part = takePhrase(tokens, VOCABULARY.parts);
  const arms = takeArms(tokens, profile.arms.map((a) => a.name));
  let verb: ActionTemplate['verb'] | undefined;
  for (const [id, words] of Object.entries(VERBS) as [keyof typeof VERBS, string[]][]) {
    if (takePhrase(tokens, { [id]: words }) !== undefined) {
      verb = id;
      break;
    }
  }
  takePhrase(tokens, VOCABULARY.objects);
  // "fold the left sleeve in half" style doubles, or "grasp ... and fold": a second part is not understood.
  const left = leftoverWords(tokens);
  if (left.length > 0) {
    return { ok: false, reason: `could not parse ${quoteText(text)}: did not understand ${quoteWords(left)}`, unknownWords: left };
  }
  if (verb === undefined) {
    return {
      ok: false,
      reason: `could not parse ${quoteText(text)}: no action word (fold, grasp, tidy, move aside, release)`,
      unknownWords: [],
    };
  }
  // "fold the sleeve with the left arm": the sleeve on that arm's side.
  if (part === 'sleeve') {
    if (arms?.length === 1 && (arms[0] === 'left' || arms[0] === 'right')) part = `${arms[0]}_sleeve`;
    else return { ok: false, reason: `could not parse ${quoteText(text)}: which sleeve? say the left sleeve or the right sleeve`, unknownWords: [] };
  }
  if (verb === 'grasp' && part === 'bottom') part = 'bottom_corners';
  if (verb === 'fold' && part === 'bottom_corners') part = 'bottom';
  if (verb === 'tidy' && part === undefined) part = 'collar';
  const template: ActionTemplate = { verb, object: 'shirt' };
  if (part !== undefined) template.part = part;
  if (target !== undefined) template.target = target;
  else if (verb === 'move') template.target = 'aside';
  if (arms !== undefined) template.arms = arms;
  return { ok: true, template };
}

export function parseTask(text: string): TaskResult<TshirtGoal> {
  const tokens = tokenize(text);
  const known = `known tasks: ${TASKS.map((t) => `"${t}"`).join(', ')}`;
  const fold = takeWord(tokens, ['fold', 'folding']);
  const shirt = takePhrase(tokens, VOCABULARY.objects) !== undefined;
  const sleeves = takePhrase(tokens, { sleeves: ['sleeves', 'both sleeves', 'the sleeves'] }) !== undefined;
  const inPlace = takePhrase(tokens, { place: ['in place', 'where it is', 'without moving it', 'place'] }) !== undefined;
  takePhrase(tokens, { aside: ['and put it aside', 'and move it aside', 'and set it aside', 'put aside', 'aside', 'completely', 'fully', 'all the way'] });
  takeWord(tokens, ['put', 'move', 'set']);
  const left = leftoverWords(tokens);
  if (!fold || left.length > 0 || (!shirt && !sleeves)) {
    const why = left.length > 0 ? `did not understand ${quoteWords(left)}` : 'not a t-shirt task';
    return { ok: false, reason: `${quoteText(text)}: ${why}; ${known}` };
  }
  const task: (typeof TASKS)[number] = sleeves ? 'fold the sleeves in' : inPlace ? 'fold the t-shirt in place' : 'fold the t-shirt';
  const goal = GOALS[task];
  return { ok: true, goal: { folds: goal.folds.slice() as FoldId[], collar: goal.collar, aside: goal.aside } };
}
