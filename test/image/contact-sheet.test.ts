import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { contactSheet } from '../../src/image/contact-sheet.js';
import { VERDICT_FRAMES, VERDICT_LEGEND } from '../../src/run/run-sheet.js';

const grey = () => sharp({ create: { width: 64, height: 48, channels: 3, background: '#808080' } }).png().toBuffer();
const hex = (c: string) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));

describe('contact sheets', () => {
  it('frame a step in its verdict\'s colour and say in a legend what the colours mean', async () => {
    const png = await contactSheet([{ image: await grey(), caption: '1. tidy the collar', note: 'done', frame: VERDICT_FRAMES.done }, { image: await grey(), caption: '2. fold', note: 'miss', frame: VERDICT_FRAMES.miss }], { title: 't', columns: 2, ...VERDICT_LEGEND });
    const plain = await contactSheet([{ image: await grey(), caption: '1. tidy the collar', note: 'done' }, { image: await grey(), caption: '2. fold', note: 'miss' }], { title: 't', columns: 2 });
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    // The legend takes room under the title: the sheet is taller than one without it.
    expect(info.height).toBeGreaterThan((await sharp(plain).metadata()).height!);
    // The first tile's left edge, half way down, is the frame: green for done, red for miss.
    const pixel = (x: number, y: number) => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)];
    const rows = [...Array(info.height).keys()];
    const greenRow = rows.find((y) => pixel(12, y).join() === hex(VERDICT_FRAMES.done).join());
    const redRow = rows.find((y) => pixel(10 + 330 + 2, y).join() === hex(VERDICT_FRAMES.miss).join());
    expect(greenRow).toBeDefined();
    expect(redRow).toBeDefined();
  });

  it('wrap a long miss reason onto more lines instead of cutting it off: a longer reason makes a taller row', async () => {
    const reason = 'plan v3 · miss: drop: the folded shirt fell out of the left gripper and landed at (-0.05, -0.03), not aside, after the right arm let go';
    const image = await grey();
    const short = await contactSheet([{ image, caption: '9. move the folded shirt aside', note: 'plan v3 · miss: drop' }], { columns: 1 });
    const long = await contactSheet([{ image, caption: '9. move the folded shirt aside', note: reason }], { columns: 1 });
    const [hs, hl] = [(await sharp(short).metadata()).height!, (await sharp(long).metadata()).height!];
    // About 47 note characters a line at 320 px: the reason takes 3 lines, 2 more than the short note.
    expect(hl - hs).toBe(2 * 15);
  });
});
