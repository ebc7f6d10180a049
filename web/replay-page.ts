import { useSignal, useSignalEffect } from '@preact/signals';
import { html } from 'htm/preact';
import { api } from './api.js';
import { RunDisplay } from './run-display.js';
import { foldEvents, type LoggedEvent } from './run-view.js';

/** A logged run played back from its events.jsonl: a time slider picks how much of the log is folded in. */
export function ReplayPage({ id }: { id: string }) {
  const events = useSignal<LoggedEvent[] | null>(null);
  const error = useSignal<string | null>(null);
  const t = useSignal(0);
  const playing = useSignal(false);

  useSignalEffect(() => {
    api.events(id).then(
      (list) => {
        events.value = list as LoggedEvent[];
        t.value = duration(events.value);
      },
      (e) => (error.value = String(e)),
    );
  });
  useSignalEffect(() => {
    if (!playing.value || events.value === null) return;
    const end = duration(events.value);
    const timer = setInterval(() => {
      // Four times as fast as it ran.
      t.value = Math.min(end, t.value + 400);
      if (t.value >= end) playing.value = false;
    }, 100);
    return () => clearInterval(timer);
  });

  if (error.value) return html`<p class="error" role="alert">${error.value}</p>`;
  const list = events.value;
  if (list === null) return html`<p>Loading the log…</p>`;
  const start = list[0]?.at ?? 0;
  const upto = list.filter((e) => (e.at ?? start) - start <= t.value);
  const end = duration(list);
  return html`
    <section class="panel head">
      <h2>Replay of <a href=${`#/runs/${encodeURIComponent(id)}`}>${id}</a></h2>
      <div class="slider">
        <button type="button" onClick=${() => {
          if (t.value >= end) t.value = 0;
          playing.value = !playing.value;
        }}>${playing.value ? 'Pause' : 'Play'}</button>
        <input type="range" aria-label="time" min="0" max=${end} step="10" value=${t.value}
          onInput=${(e: Event) => {
            playing.value = false;
            t.value = Number((e.currentTarget as HTMLInputElement).value);
          }} />
        <span data-testid="replay-time">${(t.value / 1000).toFixed(2)} s / ${(end / 1000).toFixed(2)} s · ${upto.length}/${list.length} records</span>
      </div>
      <p class="last" data-testid="replay-last">${upto.at(-1) ? describe(upto.at(-1)!) : ''}</p>
    </section>
    <${RunDisplay} view=${foldEvents(id, upto)} />
  `;
}

function duration(list: readonly LoggedEvent[]): number {
  const first = list[0]?.at;
  const last = list.at(-1)?.at;
  return first !== undefined && last !== undefined ? last - first : 0;
}

function describe(e: LoggedEvent): string {
  return `#${e.seq} ${e.type}${'instruction' in e ? `: ${e.instruction}` : ''}${'status' in e ? ` — ${e.status}` : ''}`;
}
