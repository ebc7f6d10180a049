import { useSignal } from '@preact/signals';
import { html } from 'htm/preact';
import type { RunSummary } from '../src/service/api-schema.js';
import { api, ApiError, type Capabilities } from './api.js';
import { usePoll } from './poll.js';

const POLL_MS = 1000;

/** Every run the service knows, polled, and the form that starts one. */
export function RunsPage({ caps }: { caps: Capabilities }) {
  const runs = useSignal<RunSummary[] | null>(null);
  const error = useSignal<string | null>(null);
  usePoll(async () => {
    try {
      runs.value = (await api.runs()).runs;
      error.value = null;
    } catch (e) {
      error.value = `cannot list runs: ${String(e)}`;
    }
  }, POLL_MS);
  return html`
    <section class="panel">
      <h2>Start a run</h2>
      <${StartForm} caps=${caps} />
      ${caps.rollouts ? html`<p class="aside"><a href="#/rollouts">Start a rollout</a>: many episodes against a simulator the service starts, with their success rate.</p>` : null}
    </section>
    <section class="panel">
      <h2>Runs</h2>
      ${error.value ? html`<p class="warn" role="status">${error.value}</p>` : null}
      ${runs.value === null
        ? html`<p>Loading…</p>`
        : runs.value.length === 0
          ? html`<p>No runs yet.</p>`
          : html`<table class="runs" aria-label="runs">
              <thead><tr><th>run</th><th>state</th><th>robot</th><th>task</th><th>backend</th><th>events</th><th></th></tr></thead>
              <tbody>
                ${runs.value.map(
                  (r) => html`<tr data-run=${r.runId}>
                    <td><a href=${`#/runs/${encodeURIComponent(r.runId)}`}>${r.runId}</a></td>
                    <td class=${`state ${r.outcome ?? r.state}`} data-testid="run-state">${r.outcome ?? r.state}</td>
                    <td>${r.robot ?? ''}</td>
                    <td>${r.task ?? ''}</td>
                    <td>${r.backend ?? ''}</td>
                    <td>${r.events}</td>
                    <td>${r.state === 'finished' ? html`<a href=${`#/runs/${encodeURIComponent(r.runId)}/replay`}>replay</a>` : null}</td>
                  </tr>`,
                )}
              </tbody>
            </table>`}
    </section>
  `;
}

function StartForm({ caps }: { caps: Capabilities }) {
  const error = useSignal<string | null>(null);
  const busy = useSignal(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const text = (k: string) => String(form.get(k) ?? '').trim();
    const body: Record<string, unknown> = { robot: text('robot'), task: text('task'), rosbridge: text('rosbridge'), backend: text('backend') };
    if (text('runId') !== '') body.runId = text('runId');
    if (caps.autonomy !== null && text('autonomy') !== '') body.autonomy = text('autonomy');
    busy.value = true;
    error.value = null;
    try {
      const run = await api.start(body);
      location.hash = `#/runs/${encodeURIComponent(run.runId)}`;
    } catch (e) {
      error.value = e instanceof ApiError ? [e.message, ...e.issues.map((i) => `${i.path}: ${i.message}`)].join('\n') : String(e);
    } finally {
      busy.value = false;
    }
  };
  const noAutonomy = 'this service has no autonomy setting yet (POST /v1/runs takes no "autonomy"): runs go without approval';
  return html`
    <form class="start" onSubmit=${submit} aria-label="start a run">
      <label>robot <input name="robot" required defaultValue="aloha-agilex" /></label>
      <label>task <input name="task" required defaultValue="fold the t-shirt" /></label>
      <label>rosbridge URL <input name="rosbridge" required defaultValue="ws://127.0.0.1:9090" pattern="wss?://.+" /></label>
      <label>backend
        <select name="backend">${caps.backends.map((b) => html`<option value=${b}>${b}</option>`)}</select>
      </label>
      <label title=${caps.autonomy === null ? noAutonomy : ''}>autonomy
        <select name="autonomy" disabled=${caps.autonomy === null}>
          ${(caps.autonomy ?? ['full']).map((a) => html`<option value=${a}>${a}</option>`)}
        </select>
      </label>
      <label>run id <input name="runId" placeholder="generated" /></label>
      <button type="submit" disabled=${busy.value}>Start run</button>
      ${error.value ? html`<pre class="error" role="alert">${error.value}</pre>` : null}
    </form>
  `;
}
