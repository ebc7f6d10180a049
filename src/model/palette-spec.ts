import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ModelError, modelFile } from './model-error.js';

const int = z.number().int();

/**
 * spec.json of a palette-patch model (version 2, models/PALETTE.md): pictures are 16x16 cells of 8x8
 * palette indices, not codes, so no tokenizer fields; the recipe that made the graph is recorded.
 */
export const PaletteModelSpec = z.object({
  version: z.literal(2),
  picture: z.literal('palette-cells'),
  imageSize: int.positive(),
  grid: int.positive(),
  cell: int.positive(),
  colours: int.positive().max(255),
  cellValues: z.object({ mask: int.nonnegative(), none: int.nonnegative() }),
  specials: z.record(z.string(), int.nonnegative()),
  roles: z.object({
    pad: int,
    bos: int,
    eos: int,
    imageStart: int,
    imageEnd: int,
    endOfRow: int,
    steps: int,
    sep: int,
    mask: int,
    unk: int,
    next: int,
    cell: int,
  }),
  wordBase: int.positive(),
  words: z.array(z.string().min(1)),
  vocab: int.positive(),
  maxLen: int.positive(),
  imagePositions: int.positive(),
  palette: z.array(z.string().regex(/^#[0-9a-f]{6}$/)).min(1),
  transformer: z.object({
    layers: int.positive(),
    heads: int.positive(),
    headDim: int.positive(),
    d: int.positive(),
    ff: int.positive(),
    condInput: z.boolean(),
    /** Hidden width of the per-cell pixel head inside the graph; absent: a linear head. */
    pixelHidden: int.positive().optional(),
    /** Hidden layers of that head, each pixelHidden wide; absent: one. */
    pixelLayers: int.positive().optional(),
    /** Whole-cell hypotheses of the pixel head (the graph draws from the likeliest); absent: one. */
    pixelMixture: int.positive().optional(),
  }),
  /**
   * Decoding the recipe measured the model with: DiDA passes when the caller names none. Absent: the
   * runtime's default (2).
   */
  decoding: z.object({ passes: int.positive().max(16) }).optional(),
  recipe: z.object({
    command: z.string(),
    seed: int,
    dataHash: z.string().regex(/^sha256:[0-9a-f]{64}$/),
    steps: int.nonnegative(),
    graph: z.string().min(1),
    /** The pixel head's graph, run only on the cells a sampler draws. */
    pixelGraph: z.string().min(1),
    /** DiDA's graph without cache or text logits (onnx-session.ts); older exports have none. */
    keyframeGraph: z.string().min(1).optional(),
  }),
}).refine((s) => s.grid * s.cell === s.imageSize, { message: 'grid x cell must equal imageSize', path: ['grid'] })
  .refine((s) => s.palette.length === s.colours, { message: 'palette must list `colours` colours', path: ['palette'] })
  .refine((s) => s.cellValues.mask === s.colours && s.cellValues.none === s.colours + 1, { message: 'MASK and NONE follow the colours', path: ['cellValues'] });
export type PaletteModelSpec = z.infer<typeof PaletteModelSpec>;

/** The spec version a model folder holds (1: VQ tokens, 2: palette cells), without parsing the rest. */
export function modelSpecVersion(dir: string): number | undefined {
  try {
    const json: unknown = JSON.parse(readFileSync(modelFile(dir, 'spec.json'), 'utf8'));
    const version = (json as { version?: unknown }).version;
    return typeof version === 'number' ? version : undefined;
  } catch {
    return undefined;
  }
}

export function loadPaletteModelSpec(dir: string): PaletteModelSpec {
  const file = modelFile(dir, 'spec.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new ModelError(`${file} is not readable JSON (${(cause as Error).message}). Re-export the model with models/recipe.py.`, file, { cause });
  }
  const parsed = PaletteModelSpec.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ModelError(`${file}: ${issue.path.join('.')}: ${issue.message}. Re-export the model with models/recipe.py.`, file);
  }
  return parsed.data;
}
