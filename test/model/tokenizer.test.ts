import { describe, expect, it } from 'vitest';
import { loadModelSpec, TokenLayout } from '../../src/model/spec.js';
import { joinWords, words } from '../../src/model/text.js';
import { PALETTE } from '../../src/scenes/palette.js';
import { MODEL_DIR } from './fixtures.js';

const layout = new TokenLayout(loadModelSpec(MODEL_DIR));
const { roles, visualBase, grid } = layout.spec;

describe('token layout (models/vq/spec.json)', () => {
  it('keeps at least a 16x16 grid per keyframe, with an end-of-row token between rows', () => {
    expect(grid).toBeGreaterThanOrEqual(16);
    expect(layout.imageSpanLength).toBe(grid * grid + grid - 1);
  });

  it("draws with the renderer's palette: every sim colour is one the VQ decoder can paint", () => {
    // models/worldmodel.py keeps its own copy of sim/palette.ts; a colour added to the renderer and
    // not to the recipe would come out as the nearest wrong colour.
    const palette = layout.spec.palette;
    expect(palette, 'spec.json has no palette: re-export with models/train.py').toBeDefined();
    const solid = Object.values(PALETTE).filter((hex) => hex.length === 7);
    for (const hex of solid) expect(palette).toContain(hex);
  });

  it('round-trips every instruction the oracle uses', () => {
    for (const text of ['fold the left sleeve in with the left arm', 'put the cup in the rack', 'grasp the bottom corners with both arms', 'stand the bottle upright']) {
      const ids = layout.encodeText(text);
      expect(ids.every((id) => id >= layout.spec.wordBase && id < visualBase)).toBe(true);
      expect(layout.decodeText(ids)).toBe(text);
    }
  });

  it('reads words it does not know as <|unk|> and says which', () => {
    expect(layout.encodeText('fold the banana')).toContain(roles.unk);
    expect(layout.unknownWords('fold the banana')).toEqual(['banana']);
  });

  it('splits words and punctuation the way the Python side does', () => {
    expect(words('Fold the T-shirt, then stop.')).toEqual(['fold', 'the', 't-shirt', ',', 'then', 'stop', '.']);
    expect(joinWords(['fold', 'the', 't-shirt', ',', 'then'])).toBe('fold the t-shirt, then');
  });

  it('round-trips an image through its span: codes -> tokens -> codes', () => {
    const codes = Int32Array.from({ length: grid * grid }, (_, i) => (i * 37) % layout.spec.codes);
    const span = layout.imageTokens(codes);
    expect(span.ids).toHaveLength(layout.imageSpanLength);
    expect(span.ids.filter((id) => id === roles.endOfRow)).toHaveLength(grid - 1);
    expect(Array.from(layout.spanToCodes(span.ids))).toEqual(Array.from(codes));
    expect(new Set(span.imagePos).size).toBe(span.imagePos.length);
  });

  it('refuses a span that still holds a MASK', () => {
    const ids = layout.imageTokens(new Int32Array(grid * grid)).ids;
    ids[3] = roles.mask;
    expect(() => layout.spanToCodes(ids)).toThrow(/not a visual token/);
  });

  it('builds plan and keyframe prompts in the Emu3.5 spirit', () => {
    const codes = new Int32Array(grid * grid);
    const plan = layout.planPrompt('aloha-agilex', 'fold the t-shirt', codes);
    expect(plan.ids[0]).toBe(roles.bos);
    expect(plan.ids.at(-1)).toBe(roles.steps);
    expect(plan.ids.at(-2)).toBe(roles.imageEnd);
    const kf = layout.keyframePrompt('aloha-agilex', 'fold the t-shirt', codes, 'tidy the collar with the right arm');
    expect(kf.ids.at(-1)).toBe(roles.imageStart);
    expect(kf.ids).toContain(roles.next);
    const uncond = layout.keyframePrompt('aloha-agilex', 'fold the t-shirt', codes, null);
    expect(kf.ids.length - uncond.ids.length).toBe(layout.encodeText('tidy the collar with the right arm').length);
    expect(layout.splitSteps([...layout.encodeText('put the cup in the rack'), roles.sep, ...layout.encodeText('put the plate in the rack'), roles.eos])).toEqual([
      'put the cup in the rack',
      'put the plate in the rack',
    ]);
  });
});
