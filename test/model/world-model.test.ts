import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide, DEFAULT_CONTROLLER_OPTIONS } from '../../sim/controller.js';
import { sceneById } from '../../src/scenes/registry.js';
import { didaFill } from '../../src/model/dida.js';
import { greedy, prefill, softmax } from '../../src/model/generation.js';
import { WorldModel } from '../../src/model/world-model.js';
import { Rng } from '../../src/util/rng.js';
import { heldOutShirt, MODEL_DIR } from './fixtures.js';

const ROBOT = 'aloha-agilex';
const TASK = 'fold the t-shirt';

describe('world model on the committed ONNX files', () => {
  let model: WorldModel;
  const shirt = heldOutShirt();
  let observation: Int32Array;

  beforeAll(async () => {
    model = await WorldModel.open({ dir: MODEL_DIR, threads: 1 });
    observation = await model.encodeImage(shirt.observationSvg);
  });
  afterAll(async () => {
    await model.close();
  });

  it('encodes a camera frame to a 16x16 grid of codes and decodes it back to a picture', async () => {
    const { grid, codes } = model.layout.spec;
    expect(observation).toHaveLength(grid * grid);
    expect(Array.from(observation).every((c) => c >= 0 && c < codes)).toBe(true);
    const rgb = await model.decodeRgb(observation);
    expect(rgb).toHaveLength(model.imageSize.width * model.imageSize.height * 3);
  });

  it('draws a keyframe against its starting picture: repeated codes keep the picture, changed ones are decoded', async () => {
    const picture = await model.encodePicture(shirt.observationSvg);
    expect(Array.from(picture.codes)).toEqual(Array.from(observation));
    // Nothing changed: the observation's own pixels come back, not the tokenizer's redrawing of them.
    const same = await model.decodePicture(picture.codes, picture);
    expect(Buffer.from(same.rgb).equals(Buffer.from(picture.rgb))).toBe(true);
    const redrawn = await model.decodeRgb(picture.codes);
    expect(Buffer.from(redrawn).equals(Buffer.from(picture.rgb))).toBe(false);
    // One cell changed: only that 8x8 cell differs from the observation.
    const codes = Int32Array.from(picture.codes);
    codes[0] = (codes[0]! + 1) % model.layout.spec.codes;
    const one = await model.decodePicture(codes, picture);
    const size = model.layout.spec.imageSize;
    const cell = size / model.layout.spec.grid;
    let outside = 0;
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
      if (x < cell && y < cell) continue;
      for (let c = 0; c < 3; c++) if (one.rgb[(y * size + x) * 3 + c] !== picture.rgb[(y * size + x) * 3 + c]) outside++;
    }
    expect(outside).toBe(0);
  });

  it('lists the best single departures from a refused step text, most likely first', async () => {
    const [first, second] = await model.stepTexts(ROBOT, TASK, observation, { seed: 0 });
    expect(second).toBeDefined();
    const refused = second!;
    const alternatives = await model.stepAlternatives(ROBOT, TASK, observation, { keep: [first!], refused: [refused] });
    expect(alternatives.length).toBeGreaterThan(1);
    expect(alternatives.map((a) => a.text)).not.toContain(refused);
    expect(new Set(alternatives.map((a) => a.text)).size).toBe(alternatives.length);
    const scores = alternatives.map((a) => a.logProb);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    for (const p of scores) expect(p).toBeLessThan(0);
    // Each keeps the refused text up to some word and departs there (or runs on past its end).
    const words = refused.split(' ');
    for (const { text } of alternatives) {
      const w = text.split(' ');
      const j = words.findIndex((x, i) => w[i] !== x);
      expect(j === -1 ? w.length > words.length : w[j] !== words[j]).toBe(true);
    }
    // The departure at the first word is there: some alternative starts with another word.
    expect(alternatives.some((a) => a.text.split(' ')[0] !== words[0])).toBe(true);
    expect(await model.stepAlternatives(ROBOT, TASK, observation, { keep: [first!], refused: [refused] })).toEqual(alternatives);
    // With two refused texts, a departure differs from both wherever they share the words before it.
    const both = [refused, alternatives[0]!.text];
    const further = await model.stepAlternatives(ROBOT, TASK, observation, { keep: [first!], refused: both });
    expect(further.length).toBeGreaterThan(0);
    // Where the best alternative left the refused text, the next departure there takes neither word.
    const [r, a0] = both.map((t) => t.split(' '));
    const j0 = r!.findIndex((x, i) => a0![i] !== x);
    expect(j0).toBeGreaterThanOrEqual(0);
    expect(
      further.some(({ text }) => {
        const w = text.split(' ');
        return w.slice(0, j0).join(' ') === r!.slice(0, j0).join(' ') && w[j0] !== r![j0] && w[j0] !== a0![j0];
      }),
    ).toBe(true);
  });

  it('writes step texts from the picture, the same for the same seed', async () => {
    const a = await model.stepTexts(ROBOT, TASK, observation, { seed: 5, temperature: 0.8, topK: 20, topP: 0.9, maxTokens: 40 });
    const b = await model.stepTexts(ROBOT, TASK, observation, { seed: 5, temperature: 0.8, topK: 20, topP: 0.9, maxTokens: 40 });
    expect(a).toEqual(b);
    expect(a.length).toBeGreaterThan(0);
  });

  it("the graph's greedy visual picks are the argmax and softmax probability of its logits", async () => {
    const prompt = model.layout.keyframePrompt(ROBOT, TASK, observation, shirt.steps[0]!.instruction);
    const { mask, endOfRow } = model.layout.roles;
    const { visualBase, codes } = model.layout.spec;
    const S = model.layout.imageSpanLength;
    await model.pool.run(async (s) => {
      expect(s.picks).not.toBeNull();
      const cache = (await prefill(s, prompt)).cache;
      const P = cache.dims[4]!;
      const span = Array.from({ length: S }, (_, k) => (model.layout.isEndOfRowAt(k) ? endOfRow : mask));
      const input = { ids: span, positions: span.map((_, i) => P + i), imagePos: span.map((_, k) => model.layout.imagePosAt(k)), mask: new Float32Array(S * (P + S)).fill(1), past: cache };
      const [picks, scores] = await Promise.all([s.picks!(input), s.scores(input)]);
      expect(picks.best).toHaveLength(S);
      for (let k = 0; k < S; k++) {
        const row = scores.logits.subarray(k * scores.vocab + visualBase, k * scores.vocab + visualBase + codes);
        const best = greedy(row, new Rng(0));
        expect(picks.best[k]).toBe(best);
        expect(picks.confidence[k]).toBeCloseTo(softmax(row)[best]!, 5);
      }
      // DiDA gives the same keyframe through the graph's picks and through the logits (older exports).
      const options = () => ({ passes: 2, schedule: 'cosine' as const, temperature: 0, guidance: 1, rng: new Rng(1) });
      const viaPicks = await didaFill(s, model.layout, prompt, options());
      expect(await didaFill({ ...s, picks: null }, model.layout, prompt, options())).toEqual(viaPicks);
      // With a keep prior either way (keptPick against softmax + greedy over the biased logits).
      for (const bias of [-2, 2]) {
        const keep = { reference: observation, bias };
        const fast = await didaFill(s, model.layout, prompt, { ...options(), keep });
        expect(await didaFill({ ...s, picks: null }, model.layout, prompt, { ...options(), keep })).toEqual(fast);
        // The prior does something: it moves some cells towards (bias > 0) or away from the start.
        const kept = (span: number[]) => model.layout.spanToCodes(span).filter((c, i) => c === observation[i]).length;
        expect(bias < 0 ? kept(fast) < kept(viaPicks) : kept(fast) > kept(viaPicks)).toBe(true);
      }
    });
  });

  it('DiDA fills every keyframe token: no MASK left, whatever the number of passes', async () => {
    const prompt = model.layout.keyframePrompt(ROBOT, TASK, observation, shirt.steps[0]!.instruction);
    for (const passes of [1, 3]) {
      const span = await model.pool.run((s) => didaFill(s, model.layout, prompt, { passes, schedule: 'cosine', temperature: 1, guidance: 1, rng: new Rng(1) }));
      expect(span).toHaveLength(model.layout.imageSpanLength);
      expect(span.filter((id) => id === model.layout.roles.mask)).toHaveLength(0);
      expect(model.layout.spanToCodes(span)).toHaveLength(256);
    }
  });

  it('is deterministic under a seed, sampling included (DiDA with guidance, and AR)', async () => {
    const step = shirt.steps[0]!.instruction;
    const dida = () => model.keyframe(ROBOT, TASK, observation, step, { sampler: 'dida', seed: 3, passes: 3, temperature: 1, guidance: 2 });
    expect(Array.from(await dida())).toEqual(Array.from(await dida()));
    const ar = () => model.keyframe(ROBOT, TASK, observation, step, { sampler: 'ar', seed: 3, temperature: 1, topK: 8 });
    expect(Array.from(await ar())).toEqual(Array.from(await ar()));
  });

  // "Easy" here means the tokens the step leaves alone (the conditioning picture's code equals the
  // true next state's): the model only has to copy them. Greedy AR and greedy DiDA must mostly draw
  // those the same. This small, briefly trained model copies imperfectly (agreement about 0.80-0.87
  // on unchanged tokens of T-shirt steps, 0.77-0.86 overall, see models/README.md), so the bounds sit
  // just under what it does: they catch a broken sampler, not a weak model.
  it('AR and DiDA agree on easy inputs (greedy, held-out T-shirt first step)', async () => {
    const step = shirt.steps[0]!;
    const truth = await model.encodeImage(shirt.svg(step.next));
    const ar = await model.keyframe(ROBOT, TASK, observation, step.instruction, { sampler: 'ar', seed: 1 });
    const dida = await model.keyframe(ROBOT, TASK, observation, step.instruction, { sampler: 'dida', seed: 1, passes: 8 });
    const easy = [...observation.keys()].filter((i) => observation[i] === truth[i]);
    expect(easy.length).toBeGreaterThan(128);
    const agreeEasy = easy.filter((i) => ar[i] === dida[i]).length / easy.length;
    expect(agreeEasy).toBeGreaterThanOrEqual(0.75);
    const agreeAll = ar.reduce((n, c, i) => n + (c === dida[i] ? 1 : 0), 0) / ar.length;
    expect(agreeAll).toBeGreaterThanOrEqual(0.7);
  });

  it("the sim controller acts on the tokenizer's own drawing of every true outcome of a held-out plan", async () => {
    // A perfect transformer can do no better than the tokenizer: if the controller refused these,
    // the closed loop would measure how the VQ decoder draws 1-2 px gripper jaws, not the plan.
    const scene = sceneById('tshirt');
    let state = shirt.state;
    const verdicts: string[] = [];
    for (const step of shirt.steps) {
      const start = await model.encodePicture(shirt.svg(state));
      const drawn = await model.decodePng(await model.encodeImage(shirt.svg(step.next)), start);
      const d = await decide(scene, shirt.profile, state as never, step.instruction, drawn, DEFAULT_CONTROLLER_OPTIONS);
      verdicts.push(d.kind === 'act' && shirt.svg(d.next) === shirt.svg(step.next) ? 'act' : `${step.instruction}: ${d.kind === 'act' ? 'acted elsewhere' : d.reason}`);
      state = step.next;
    }
    expect(verdicts).toEqual(shirt.steps.map(() => 'act'));
  });
});
