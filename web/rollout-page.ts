import { useSignal } from '@preact/signals';
import { html } from 'htm/preact';
import type { EpisodeSummary } from '../src/run/rollout-result.js';
import { wilsonInterval } from '../src/run/stats.js';
import type { RolloutList, RolloutStatus } from '../src/service/rollout-schema.js';
import { api, ApiError, sheetUrl, type Capabilities } from './api.js';
import { usePoll } from './poll.js';

const POLL_MS = 500;

/** `keystep rollout` from the browser: the form that starts one and, once started, its figures as episodes finish. */
export function RolloutPage({ id, caps }: { id: string | null; caps: Capabilities }) {
  if (!caps.rollouts) return html`<section class="panel head"><p class="warn">This service has no rollouts (POST /v1/rollouts is missing).</p></section>`;
  const intro = html`<p>Episodes of a task against a <code>keystep sim</code> the service starts, as <code>keystep rollout</code> runs them; success is the simulator's verdict.</p>`;
  if (id === null) {
    return html`
      <section class="panel head">
        <h2>Start a rollout</h2>
        ${intro}
        <${RolloutForm} caps=${caps} />
      </section>
      <section class="panel">
        <h3>Rollouts</h3>
        <${RolloutTable} />
      </section>
    `;
  }
  return html`
    <${RolloutView} key=${id} id=${id} />
    <section class="panel head">
      <details>
        <summary>Start another rollout</summary>
        ${intro}
        <${RolloutForm} caps=${caps} />
      </details>
    </section>
  `;
}

/** Its inputs take defaultValue: a re-render (a new rollout shown) must not put the defaults back over what was typed. */
function RolloutForm({ caps }: { caps: Capabilities }) {
  const error = useSignal<string | null>(null);
  const busy = useSignal(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const text = (k: string) => String(form.get(k) ?? '').trim();
    const body = {
      robot: text('robot'),
      scene: text('scene'),
      task: text('task'),
      episodes: Number(text('episodes')),
      seed: Number(text('seed')),
      missRate: Number(text('missRate')),
      backend: text('backend'),
    };
    busy.value = true;
    error.value = null;
    try {
      const started = await api.startRollout(body);
      location.hash = `#/rollouts/${encodeURIComponent(started.id)}`;
    } catch (e) {
      error.value = e instanceof ApiError ? [e.message, ...e.issues.map((i) => `${i.path}: ${i.message}`)].join('\n') : String(e);
    } finally {
      busy.value = false;
    }
  };
  const { scenes, backends } = caps.rolloutForm;
  return html`
    <form class="start" onSubmit=${submit} aria-label="start a rollout">
      <label>robot <input name="robot" required defaultValue="aloha-agilex" /></label>
      <label>scene <select name="scene">${scenes.map((s) => html`<option value=${s}>${s}</option>`)}</select></label>
      <label>task <input name="task" required defaultValue="fold the t-shirt" /></label>
      <label>episodes <input name="episodes" type="number" min="1" max="1000" required defaultValue="10" /></label>
      <label>seed <input name="seed" type="number" min="0" required defaultValue="0" /></label>
      <label>miss rate <input name="missRate" type="number" min="0" max="1" step="0.01" required defaultValue="0.15" /></label>
      <label>backend
        <select name="backend">${backends.map((b) => html`<option value=${b} selected=${b === 'oracle'}>${b}</option>`)}</select>
      </label>
      <button type="submit" disabled=${busy.value}>Start rollout</button>
      ${error.value ? html`<pre class="error" role="alert">${error.value}</pre>` : null}
    </form>
  `;
}

/** The service's rollouts, newest first (those of its earlier starts too), polled while one runs. */
function RolloutTable() {
  const list = useSignal<RolloutList['rollouts'] | null>(null);
  const error = useSignal<string | null>(null);
  usePoll(
    async () => {
      try {
        list.value = (await api.rollouts()).rollouts;
        error.value = null;
      } catch (e) {
        error.value = `cannot read the rollouts: ${String(e)}; trying again`;
      }
    },
    POLL_MS * 4,
    () => list.value === null || list.value.some((r) => r.state === 'running'),
  );
  if (error.value) return html`<p class="warn" role="status">${error.value}</p>`;
  if (list.value === null) return html`<p>Loading…</p>`;
  if (list.value.length === 0) return html`<p>No rollouts yet.</p>`;
  return html`<table class="runs" aria-label="rollouts">
    <thead><tr><th>rollout</th><th>state</th><th>robot</th><th>task</th><th>backend</th><th>episodes</th></tr></thead>
    <tbody>
      ${list.value.map(
        (r) => html`<tr data-rollout=${r.id}>
          <td><a href=${`#/rollouts/${encodeURIComponent(r.id)}`}>${r.id}</a></td>
          <td class=${`state ${r.state}`} data-testid="rollout-state">${r.state}</td>
          <td>${r.robot}</td>
          <td>${r.task}</td>
          <td>${r.backend}</td>
          <td>${r.progress.done}/${r.progress.episodes} done, ${r.progress.successes} succeeded</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

/** One rollout, polled until it is no longer running. */
function RolloutView({ id }: { id: string }) {
  const status = useSignal<RolloutStatus | null>(null);
  const error = useSignal<string | null>(null);
  const gone = useSignal(false);
  usePoll(
    async () => {
      try {
        status.value = await api.rollout(id);
        error.value = null;
      } catch (e) {
        gone.value = e instanceof ApiError && e.status === 404;
        error.value = gone.value ? (e as ApiError).message : `cannot read the rollout: ${String(e)}; trying again`;
      }
    },
    POLL_MS,
    () => !gone.value && (status.value === null || status.value.rollout.state === 'running'),
  );
  const s = status.value;
  if (s === null) return html`<section class="panel head">${error.value ? html`<p class="error" role="alert">${error.value}</p>` : html`<p>Loading…</p>`}</section>`;
  const { rollout, progress, episodes, result } = s;
  const ci = wilsonInterval(progress.successes, progress.done);
  const pct = (x: number) => `${Math.round(x * 100)} %`;
  return html`
    <section class="panel head" aria-label="rollout">
      <h2>Rollout <span data-testid="rollout-id">${rollout.id}</span></h2>
      <p>${rollout.robot} · ${rollout.scene} · “${rollout.task}” · ${rollout.backend} · ${progress.episodes} episodes from seed ${rollout.seed} · miss rate ${rollout.missRate} · <strong class=${`state ${rollout.state}`} data-testid="rollout-state">${rollout.state}</strong>
        ${rollout.error ? html` <span class="error">${rollout.error}</span>` : null}</p>
      ${error.value ? html`<p class="warn" role="status">${error.value}</p>` : null}
      <div class="progress">
        <progress max=${progress.episodes} value=${progress.done}></progress>
        <span data-testid="rollout-progress">${progress.done}/${progress.episodes} episodes done</span>
      </div>
      <p class="rate" data-testid="success-rate">
        ${progress.done === 0
          ? 'no episode has finished yet'
          : `${progress.successes}/${progress.done} succeeded: ${pct(progress.successes / progress.done)} (95 % CI ${Math.round(ci.low * 100)}–${pct(ci.high)}, Wilson)`}
      </p>
      ${result
        ? html`<p data-testid="rollout-result">${result.steps} steps sent · ${result.misses} misses · ${result.replans} replans · plan latency p50 ${result.planLatencyMs.p50} ms, p95 ${result.planLatencyMs.p95} ms · ${result.wallS} s</p>`
        : null}
    </section>
    <section class="panel">
      <h3>How far episodes got</h3>
      <${StepsChart} episodes=${episodes} />
    </section>
    <section class="panel">
      <h3>Failure reasons</h3>
      <${FailureReasons} episodes=${episodes} />
    </section>
    <section class="panel sheets" aria-label="episode sheets">
      <h3>Episodes</h3>
      ${episodes.length === 0
        ? html`<p>None finished yet.</p>`
        : html`<div class="sheet-grid">
            ${episodes.map(
              (e) => html`<figure data-testid="episode" data-success=${String(e.success)}>
                <a href=${sheetUrl(id, e.episode)} target="_blank"><img src=${sheetUrl(id, e.episode)} alt=${`sheet of episode ${e.episode}`} loading="lazy" /></a>
                <figcaption class=${e.success ? 'chip done' : 'chip missed'}>episode ${e.episode} (seed ${e.seed}): ${e.success ? 'succeeded' : e.outcome} · ${e.doneSteps} done, ${e.misses} missed, ${e.replans} replans</figcaption>
              </figure>`,
            )}
          </div>`}
    </section>
  `;
}

/** Per-episode bars while they fit; past that, how many episodes got exactly k steps done. */
const MAX_EPISODE_BARS = 60;

interface Bar {
  label: string;
  /** Steps done (per episode) or episodes (histogram): the bar's solid part. */
  value: number;
  /** Steps missed, stacked on top (per episode only). */
  missed: number;
  tone: 'ok' | 'bad' | 'count';
  title: string;
}

function barsOf(episodes: readonly EpisodeSummary[]): { bars: Bar[]; axis: string } {
  if (episodes.length <= MAX_EPISODE_BARS) {
    return {
      axis: 'steps done per episode (green: succeeded, red: failed), missed steps stacked above (orange)',
      bars: episodes.map((e) => ({
        label: String(e.episode),
        value: e.doneSteps,
        missed: e.misses,
        tone: e.success ? 'ok' : 'bad',
        title: `episode ${e.episode} (seed ${e.seed}): ${e.doneSteps} steps done, ${e.misses} missed, ${e.success ? 'succeeded' : (e.reason ?? e.outcome)}`,
      })),
    };
  }
  const most = Math.max(0, ...episodes.map((e) => e.doneSteps));
  return {
    axis: 'episodes by steps done',
    bars: Array.from({ length: most + 1 }, (_, k) => {
      const n = episodes.filter((e) => e.doneSteps === k).length;
      return { label: String(k), value: n, missed: 0, tone: 'count' as const, title: `${n} episode(s) with ${k} steps done` };
    }),
  };
}

function StepsChart({ episodes }: { episodes: readonly EpisodeSummary[] }) {
  if (episodes.length === 0) return html`<p>No episode yet.</p>`;
  const { bars, axis } = barsOf(episodes);
  const W = 480;
  const H = 180;
  const top = 14;
  const bottom = 18;
  const max = Math.max(1, ...bars.map((b) => b.value + b.missed));
  const scale = (n: number) => ((H - top - bottom) * n) / max;
  const bw = W / bars.length;
  const labelEvery = Math.ceil(bars.length / 20);
  return html`
    <svg data-testid="steps-chart" viewBox=${`0 0 ${W} ${H}`} role="img" aria-label=${axis} class="chart">
      <line x1="0" x2=${W} y1=${H - bottom} y2=${H - bottom} class="axis" />
      ${bars.map((b, i) => {
        const h = scale(b.value);
        const m = scale(b.missed);
        const x = i * bw + bw * 0.12;
        const w = bw * 0.76;
        return html`<g>
          <title>${b.title}</title>
          <rect data-testid="bar" data-value=${b.value} class=${`bar ${b.tone}`} x=${x} y=${H - bottom - h} width=${w} height=${h} />
          ${b.missed > 0 ? html`<rect data-testid="bar-missed" data-value=${b.missed} class="bar missed" x=${x} y=${H - bottom - h - m} width=${w} height=${m} />` : null}
          ${bw >= 14 ? html`<text x=${x + w / 2} y=${H - bottom - h - m - 3} class="value">${b.missed > 0 ? `${b.value}+${b.missed}` : b.value}</text>` : null}
          ${i % labelEvery === 0 ? html`<text x=${x + w / 2} y=${H - 4} class="tick">${b.label}</text>` : null}
        </g>`;
      })}
    </svg>
    <p class="caption">${axis}</p>
  `;
}

function FailureReasons({ episodes }: { episodes: readonly EpisodeSummary[] }) {
  // Alike failures differ in their numbers (step 3, plan v2, a position): grouped without them, shown as the first one said it.
  const groups = new Map<string, { example: string; episodes: number[] }>();
  for (const e of episodes) {
    if (e.success) continue;
    const why = e.reason ?? e.outcome;
    const key = why.replace(/\d+(\.\d+)?/g, '#');
    const group = groups.get(key) ?? { example: why, episodes: [] };
    group.episodes.push(e.episode);
    groups.set(key, group);
  }
  if (groups.size === 0) return html`<p data-testid="failure-reasons">${episodes.length === 0 ? 'No episode yet.' : 'None: every episode succeeded.'}</p>`;
  return html`<table class="reasons" data-testid="failure-reasons">
    <tbody>
      ${[...groups.values()]
        .sort((a, b) => b.episodes.length - a.episodes.length)
        .map((g) => html`<tr><td class="count">${g.episodes.length}</td><td>${g.example}<div class="caption">episode${g.episodes.length > 1 ? 's' : ''} ${g.episodes.join(', ')}</div></td></tr>`)}
    </tbody>
  </table>`;
}
