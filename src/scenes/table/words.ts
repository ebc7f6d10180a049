import type { RobotProfile } from '../../schema/index.js';
import { STOPWORDS, leftoverWords, quoteText, quoteWords, takeArms, takePhrase, takeWord, tokenize } from '../language.js';
import type { ActionTemplate, ParseResult, TaskResult, Vocabulary } from '../scene.js';
import type { ObjectId, TableGoal } from './model.js';
import { OBJECT_IDS } from './model.js';

/** What the words of a table instruction mean. */
export const VOCABULARY: Vocabulary = {
  objects: {
    cup: ['cup', 'mug', 'coffee cup', 'tea cup', 'teacup'],
    plate: ['plate', 'dish', 'dinner plate'],
    bowl: ['bowl', 'soup bowl', 'cereal bowl'],
    fork: ['fork', 'utensil', 'cutlery'],
    napkin: ['napkin', 'serviette', 'paper napkin', 'tissue'],
    bottle: ['bottle', 'water bottle', 'plastic bottle', 'empty bottle'],
  },
  parts: {},
  targets: {
    rack: ['rack', 'dish rack', 'drying rack', 'dish drainer', 'drainer'],
    bin: ['bin', 'trash', 'trash bin', 'trash can', 'garbage', 'garbage bin', 'waste bin', 'wastebasket', 'rubbish bin'],
    basket: ['basket', 'utensil basket', 'cutlery basket', 'fork basket'],
  },
};

/** The noun the oracle says for each object and target. */
export const NOUN: Record<string, string> = {
  cup: 'cup',
  plate: 'plate',
  bowl: 'bowl',
  fork: 'fork',
  napkin: 'napkin',
  bottle: 'bottle',
  rack: 'rack',
  bin: 'bin',
  basket: 'basket',
};

const PICK_WORDS = ['pick', 'grasp', 'grab', 'lift', 'take', 'get', 'hold', 'raise'];
const THROW_WORDS = ['throw', 'toss', 'discard'];
const PLACE_WORDS = ['put', 'place', 'drop', 'set', 'stow', 'move', 'return', 'deposit', 'store', 'load'];
const UPRIGHT_VERBS = ['stand', 'set', 'put', 'turn', 'flip', 'place'];

export function parseInstruction(text: string, profile: RobotProfile): ParseResult {
  const tokens = tokenize(text);
  const fail = (why: string): ParseResult => {
    const unknownWords = leftoverWords(tokens);
    const extra = unknownWords.length > 0 ? `; did not understand ${quoteWords(unknownWords)}` : '';
    return { ok: false, reason: `could not parse ${quoteText(text)}: ${why}${extra}`, unknownWords };
  };
  if (tokens.words.length === 0) return { ok: false, reason: 'could not parse "": the instruction is empty', unknownWords: [] };

  const arms = takeArms(tokens, profile.arms.map((a) => a.name));
  let verb: ActionTemplate['verb'] | undefined;
  let impliedTarget: string | undefined;
  // "stand the cup upright", "set the bottle upright", "stand up the bowl", "right the cup".
  if (takeWord(tokens, ['upright', 'uprighted', 'vertical'])) {
    verb = 'upright';
    takeWord(tokens, UPRIGHT_VERBS);
  } else if (tokens.words.includes('stand') && takeWord(tokens, ['stand'])) {
    verb = 'upright';
  } else if (takeWord(tokens, PICK_WORDS)) {
    verb = 'pick';
  } else if (takeWord(tokens, THROW_WORDS)) {
    // "throw away the napkin": into the bin unless another target is named.
    verb = 'place';
    impliedTarget = 'bin';
    takeWord(tokens, ['away']);
  } else if (takeWord(tokens, PLACE_WORDS)) {
    verb = 'place';
    takeWord(tokens, ['away']);
  }
  // Targets first, so "dish rack" is read as the rack before "dish" can be read as the plate.
  const target = takePhrase(tokens, VOCABULARY.targets) ?? impliedTarget;
  const object = takePhrase(tokens, VOCABULARY.objects);

  const left = leftoverWords(tokens);
  if (left.length > 0) {
    return {
      ok: false,
      reason: `could not parse ${quoteText(text)}: did not understand ${quoteWords(left)}`,
      unknownWords: left,
    };
  }
  if (verb === undefined) return fail('no action (say "pick up", "put ... in", or "stand ... upright")');
  if (object === undefined) return fail(`no object (one of ${OBJECT_IDS.join(', ')})`);
  const template: ActionTemplate = { verb, object };
  if (target !== undefined) template.target = target;
  if (arms !== undefined) template.arms = arms;
  return { ok: true, template };
}

/** Task phrases, the full task first. */
export const TASKS = [
  'clear the table',
  'put the dishes in the rack',
  'throw away the napkin',
  'throw away the trash',
  'put the fork in the basket',
  'throw away the bottle',
] as const;

const TASK_OBJECTS: Record<(typeof TASKS)[number], ObjectId[]> = {
  'clear the table': ['cup', 'plate', 'bowl', 'fork', 'napkin', 'bottle'],
  'put the dishes in the rack': ['cup', 'plate', 'bowl'],
  'throw away the napkin': ['napkin'],
  'throw away the trash': ['napkin', 'bottle'],
  'put the fork in the basket': ['fork'],
  'throw away the bottle': ['bottle'],
};

/** Other ways people say the same tasks. */
const TASK_ALIASES: Record<string, (typeof TASKS)[number]> = {
  'clean the table': 'clear the table',
  'clear off the table': 'clear the table',
  'tidy the table': 'clear the table',
  'tidy up the table': 'clear the table',
  'clean up the table': 'clear the table',
  'put the dishes away': 'put the dishes in the rack',
  'put away the dishes': 'put the dishes in the rack',
  'put the dishes in the dish rack': 'put the dishes in the rack',
  'throw the napkin away': 'throw away the napkin',
  'throw the napkin in the bin': 'throw away the napkin',
  'throw the trash away': 'throw away the trash',
  'take out the trash': 'throw away the trash',
  'throw away the rubbish': 'throw away the trash',
  'put the fork away': 'put the fork in the basket',
  'put away the fork': 'put the fork in the basket',
  'throw the bottle away': 'throw away the bottle',
  'throw the bottle in the bin': 'throw away the bottle',
};

/** Lower case, punctuation and filler words gone: "Please clear the table." -> "clear table". */
function taskKey(text: string): string {
  return tokenize(text)
    .words.filter((w) => !STOPWORDS.has(w))
    .join(' ');
}

const TASK_BY_KEY = new Map<string, (typeof TASKS)[number]>();
for (const t of TASKS) TASK_BY_KEY.set(taskKey(t), t);
for (const [alias, t] of Object.entries(TASK_ALIASES)) TASK_BY_KEY.set(taskKey(alias), t);

export function parseTask(text: string): TaskResult<TableGoal> {
  const task = TASK_BY_KEY.get(taskKey(text));
  if (task === undefined) {
    return { ok: false, reason: `unknown table task ${quoteText(text)}; known tasks: ${TASKS.map((t) => `"${t}"`).join(', ')}` };
  }
  return { ok: true, goal: { task, objects: [...TASK_OBJECTS[task]] } };
}
