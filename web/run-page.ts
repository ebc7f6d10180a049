import { useComputed, useSignal, useSignalEffect } from '@preact/signals';
import { html } from 'htm/preact';
import { useEffect } from 'preact/hooks';
import type { RunSummary } from '../src/service/api-schema.js';
import { api, ApiError, type Capabilities } from './api.js';
import { DrawingFeed, withDrawingFrame, type DrawingView } from './drawing-feed.js';
import { EventFeed, type FeedState } from './event-feed.js';
import { RunDisplay } from './run-display.js';
import { emptyRun, foldEvent, type LoggedEvent } from './run-view.js';

/** When each record reached the screen; the browser test reads it to measure the page's delay. */
export interface ShownRecord {
  seq: number;
  type: string;
  at: number | undefined;
  shownAt: number;
}
declare global {
  interface Window {
    keystepShown?: ShownRecord[];
  }
}

/** One run, live: its events as they are logged, and the operator's controls. */
export function RunPage({ id, caps }: { id: string; caps: Capabilities }) {
  const view = useSignal(emptyRun(id));
  const feed = useSignal<FeedState>('connecting');
  const summary = useSignal<RunSummary | null>(null);
  const pending = useSignal<LoggedEvent[]>([]);
  const drawing = useSignal<DrawingView | null>(null);
  const live = useComputed(() => view.value.outcome === undefined && summary.value?.state === 'running');

  useSignalEffect(() => {
    window.keystepShown = [];
    const events = new EventFeed({
      runId: id,
      onEvent: (e) => {
        view.value = foldEvent(view.value, e);
        pending.value = [...pending.value, e];
      },
      onState: (s) => (feed.value = s),
    });
    return () => events.close();
  });

  // While the run is live, the plan it draws, pass by pass: not in its log, so from a socket of its own.
  useSignalEffect(() => {
    if (!live.value || !caps.paths.has('GET /v1/runs/{id}/drawing')) return;
    const feed = new DrawingFeed({ runId: id, onFrame: (frame) => (drawing.value = withDrawingFrame(drawing.value, frame)) });
    return () => feed.close();
  });

  // The run's state (running, interrupted...) is not in its log: ask the service, less often.
  useSignalEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout>;
    const poll = async () => {
      try {
        summary.value = (await api.run(id)).run;
      } catch {
        // restarting: the feed says so
      }
      if (!stop && summary.value?.state !== 'finished') timer = setTimeout(poll, 1000);
    };
    void poll();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  });

  // After the render that shows them.
  const shown = pending.value;
  useEffect(() => {
    if (shown.length === 0) return;
    const now = Date.now();
    window.keystepShown?.push(...shown.map((e) => ({ seq: e.seq, type: e.type, at: e.at, shownAt: now })));
    // Records that came in since this render wait for the next one.
    pending.value = pending.value.slice(shown.length);
  }, [shown]);

  const v = view.value;
  // `waiting` is newer than some services: read it without relying on it.
  const waiting = (summary.value as { waiting?: string } | null)?.waiting;
  return html`
    <section class="panel head">
      <h2>Run <span data-testid="run-id">${id}</span></h2>
      <p>${`${v.robot ?? ''} · ${v.task ?? ''} · ${v.backend ?? ''} · `}<span data-testid="feed" class=${`feed ${feed.value}`}>${feed.value === 'live' ? 'live' : feed.value === 'ended' ? 'log complete' : feed.value === 'reconnecting' ? `reconnecting (from seq ${v.lastSeq + 1})…` : 'connecting…'}</span>${' · service: '}<span data-testid="run-state">${v.outcome ? 'finished' : (summary.value?.state ?? '?')}</span>
        ${v.outcome || summary.value?.state === 'finished' ? html` · <a href=${`#/runs/${encodeURIComponent(id)}/replay`}>replay</a>` : null}
      </p>
      <${Controls} id=${id} caps=${caps} run=${{ state: v.outcome ? 'finished' : summary.value?.state, paused: v.paused || waiting === 'paused', awaitingApproval: v.approval !== null || waiting === 'approval' }} />
      ${v.approval
        ? html`<div class="approval" role="status" data-testid="approval">
            Waiting for approval of ${v.approval.scope === 'plan' ? `plan v${v.approval.planVersion}` : `step ${v.approval.stepIndex}`}: ${v.approval.steps.join(' → ')}
          </div>`
        : null}
      ${summary.value?.state === 'interrupted' ? html`<${ResumeForm} id=${id} caps=${caps} />` : null}
    </section>
    <${RunDisplay} view=${v} drawing=${drawing.value} />
  `;
}

interface Control {
  label: string;
  key: string;
  path: string;
  /** Enabled in these states only. */
  when: (run: RunNow) => boolean;
  note?: boolean;
}

/** The operator's buttons; each enabled only when the service offers its route and the run can take it. */
interface RunNow {
  state: string | undefined;
  paused: boolean;
  awaitingApproval: boolean;
}

const CONTROLS: Control[] = [
  { label: 'Approve', key: 'a', path: '/v1/runs/{id}/approve', when: (r) => r.state === 'running' && r.awaitingApproval },
  { label: 'Reject', key: 'r', path: '/v1/runs/{id}/reject', when: (r) => r.state === 'running' && r.awaitingApproval, note: true },
  { label: 'Pause', key: 'p', path: '/v1/runs/{id}/pause', when: (r) => r.state === 'running' && !r.paused },
  // The same route continues an interrupted run (with a rosbridge URL: the form below).
  { label: 'Resume', key: 'u', path: '/v1/runs/{id}/resume', when: (r) => r.state === 'running' && r.paused },
  { label: 'Abort', key: 'x', path: '/v1/runs/{id}/abort', when: (r) => r.state === 'running' },
];

function Controls({ id, caps, run }: { id: string; caps: Capabilities; run: RunNow }) {
  const note = useSignal('');
  const message = useSignal<string | null>(null);
  const press = async (c: Control) => {
    message.value = null;
    try {
      await api.post(c.path.replace('{id}', encodeURIComponent(id)), c.note && note.value !== '' ? { note: note.value } : {});
      message.value = `${c.label}: sent`;
    } catch (e) {
      message.value = `${c.label} refused: ${e instanceof ApiError ? e.message : String(e)}`;
    }
  };
  const offered = (c: Control) => caps.paths.has(`POST ${c.path}`);
  const enabled = (c: Control) => offered(c) && c.when(run);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (event.ctrlKey || event.metaKey || event.altKey || (target && ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))) return;
      const c = CONTROLS.find((k) => k.key === event.key);
      if (c && enabled(c)) {
        event.preventDefault();
        void press(c);
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  });
  return html`
    <div class="controls" role="toolbar" aria-label="run controls">
      ${CONTROLS.map((c) => {
        const why = !offered(c) ? `not offered by this service yet: POST ${c.path} is missing` : !enabled(c) ? `not now: the run is ${run.state ?? 'unknown'}${run.paused ? ', paused' : ''}${run.awaitingApproval ? ', waiting for approval' : ''}` : `key ${c.key.toUpperCase()}`;
        return html`<span title=${why} class="control">
          <button type="button" data-control=${c.label.toLowerCase()} aria-keyshortcuts=${c.key} disabled=${!enabled(c)} onClick=${() => press(c)}>
            ${c.label} <kbd>${c.key.toUpperCase()}</kbd>
          </button>
        </span>`;
      })}
      <label class="note">note <input value=${note.value} onInput=${(e: Event) => (note.value = (e.currentTarget as HTMLInputElement).value)} placeholder="why (sent with Reject)" /></label>
      ${message.value ? html`<span role="status" class="message">${message.value}</span>` : null}
    </div>
  `;
}

/** An interrupted run (the service restarted, the process died) goes on from its log. */
function ResumeForm({ id, caps }: { id: string; caps: Capabilities }) {
  const error = useSignal<string | null>(null);
  const offered = caps.paths.has('POST /v1/runs/{id}/resume');
  const submit = async (event: Event) => {
    event.preventDefault();
    const rosbridge = String(new FormData(event.currentTarget as HTMLFormElement).get('rosbridge') ?? '');
    try {
      error.value = null;
      await api.post(`/v1/runs/${encodeURIComponent(id)}/resume`, { rosbridge });
    } catch (e) {
      error.value = e instanceof ApiError ? e.message : String(e);
    }
  };
  return html`
    <form class="resume" onSubmit=${submit} aria-label="resume the interrupted run">
      <span class="warn">The run was interrupted before it finished.</span>
      <label>rosbridge URL <input name="rosbridge" required defaultValue="ws://127.0.0.1:9090" /></label>
      <button type="submit" disabled=${!offered}>Resume run</button>
      ${error.value ? html`<span role="alert" class="error">${error.value}</span>` : null}
    </form>
  `;
}
