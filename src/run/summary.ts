import sharp from 'sharp';
import type { RobotProfile, SceneId } from '../schema/index.js';
import type { EpisodeSummary, RolloutResult } from './rollout-result.js';

/** The rollout settings the summary picture names in its subtitle. */
export interface RolloutSetting {
  profile: Pick<RobotProfile, 'id'>;
  scene: SceneId;
  task: string;
  backend: string;
  /** Who planned, when not the rollout's own process (RolloutSettings.plannedBy). */
  plannedBy?: string;
  missRate: number;
  replan: boolean;
  seed: number;
}

function esc(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const FONT = 'font-family="DejaVu Sans, sans-serif"';

/** A bar chart in an SVG group: bars with their value on top and a label below. */
function bars(x: number, y: number, w: number, h: number, title: string, items: { label: string; value: number; text: string }[], max: number, color: string): string {
  const out = [`<text x="${x}" y="${y - 12}" ${FONT} font-size="16" font-weight="bold" fill="#222">${esc(title)}</text>`];
  out.push(`<line x1="${x}" y1="${y + h}" x2="${x + w}" y2="${y + h}" stroke="#999"/>`);
  const bw = w / Math.max(1, items.length);
  items.forEach((item, i) => {
    const bh = max > 0 ? (item.value / max) * (h - 20) : 0;
    const bx = x + i * bw + bw * 0.15;
    out.push(`<rect x="${bx}" y="${y + h - bh}" width="${bw * 0.7}" height="${bh}" fill="${color}"/>`);
    out.push(`<text x="${bx + bw * 0.35}" y="${y + h - bh - 4}" ${FONT} font-size="11" text-anchor="middle" fill="#333">${esc(item.text)}</text>`);
    out.push(`<text x="${bx + bw * 0.35}" y="${y + h + 15}" ${FONT} font-size="11" text-anchor="middle" fill="#555">${esc(item.label)}</text>`);
  });
  return out.join('');
}

/**
 * The rollout at a glance: headline figures, how far episodes got (share of episodes that completed
 * at least k steps), how many replans they needed, and the most common failure reasons.
 */
export async function rolloutSummaryPng(options: RolloutSetting, result: RolloutResult, episodes: readonly EpisodeSummary[]): Promise<Buffer> {
  const width = 1000;
  const height = 620;
  const maxDone = Math.max(1, ...episodes.map((e) => e.doneSteps));
  const n = Math.max(1, episodes.length);
  const reached = Array.from({ length: Math.min(maxDone, 24) }, (_, k) => {
    const share = episodes.filter((e) => e.doneSteps >= k + 1).length / n;
    return { label: String(k + 1), value: share, text: `${Math.round(share * 100)}` };
  });
  const maxReplans = Math.max(0, ...episodes.map((e) => e.replans));
  const replans = Array.from({ length: Math.min(maxReplans, 12) + 1 }, (_, r) => {
    const count = episodes.filter((e) => Math.min(e.replans, 12) === r).length;
    return { label: String(r), value: count, text: String(count) };
  });
  const reasons = new Map<string, number>();
  for (const e of episodes) {
    if (e.success) continue;
    const why = (e.reason ?? e.outcome).replace(/\d+/g, '#').slice(0, 90);
    reasons.set(why, (reasons.get(why) ?? 0) + 1);
  }
  const topReasons = [...reasons.entries()].sort((a, b) => b[1] - a[1]).slice(0, 4);
  const headline = `${Math.round(result.successRate * 1000) / 10}% success (${result.successes}/${result.episodes})`;
  const facts = [
    `${options.scene} · ${options.profile.id} · "${options.task}" · ${options.plannedBy !== undefined ? `planned by ${options.plannedBy}` : `backend ${options.backend}`} · miss rate ${options.missRate} · replanning ${options.replan ? 'on' : 'off'} · seeds ${options.seed}..${options.seed + result.episodes - 1}`,
    `steps sent ${result.steps} · misses ${result.misses} · replans ${result.replans} · plan latency p50 ${result.planLatencyMs.p50} ms, p95 ${result.planLatencyMs.p95} ms · wall ${result.wallS} s`,
  ];
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="30" y="48" ${FONT} font-size="30" font-weight="bold" fill="${result.successRate >= 0.9 ? '#1b7a3a' : '#a33'}">${esc(headline)}</text>`,
    ...facts.map((f, i) => `<text x="30" y="${80 + i * 22}" ${FONT} font-size="14" fill="#333">${esc(f)}</text>`),
    bars(40, 170, 540, 260, 'Episodes that completed at least k steps (%)', reached, 1, '#2f6fd6'),
    bars(640, 170, 330, 260, 'Episodes by number of replans', replans, Math.max(1, ...replans.map((r) => r.value)), '#f4a261'),
    `<text x="30" y="500" ${FONT} font-size="16" font-weight="bold" fill="#222">Why episodes failed</text>`,
    ...(topReasons.length === 0
      ? [`<text x="30" y="525" ${FONT} font-size="13" fill="#555">none failed</text>`]
      : topReasons.map(([why, count], i) => `<text x="30" y="${525 + i * 20}" ${FONT} font-size="13" fill="#555">${count} × ${esc(why)}</text>`)),
    '</svg>',
  ].join('');
  return sharp(Buffer.from(svg)).png().toBuffer();
}
