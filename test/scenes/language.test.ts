import { describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profile/load.js';
import { quoteText } from '../../src/scenes/language.js';
import { sceneById } from '../../src/scenes/registry.js';

/*
 * Messages about a step the parser cannot read stay readable when the step is a model's runaway
 * text: each word it did not understand is named once, and the step is quoted cut short.
 */
describe('messages about an unreadable step', () => {
  const runaway = Array.from({ length: 200 }, (_, i) => (i % 2 ? 'zebra' : 't-shirt')).join(' ');

  it('name each word once and quote the step cut after 80 characters', () => {
    for (const [scene, robot] of [['tshirt', 'aloha-agilex'], ['table', 'agibot-g1']] as const) {
      const parsed = sceneById(scene).parseInstruction(`fold ${runaway}`, loadProfile(robot));
      expect(parsed.ok, scene).toBe(false);
      if (parsed.ok) continue;
      expect(parsed.reason.length, parsed.reason).toBeLessThan(300);
      expect(parsed.reason.match(/"zebra"/g), parsed.reason).toHaveLength(1);
      expect(parsed.reason).toContain('(201 words)');
    }
  });

  it('quotes a short step whole', () => {
    expect(quoteText('fold the left sleeve')).toBe('"fold the left sleeve"');
    const long = quoteText(runaway);
    expect(long.startsWith('"t-shirt zebra')).toBe(true);
    expect(long.endsWith('..." (200 words)')).toBe(true);
    expect(long.length).toBeLessThan(110);
  });
});
