/// <reference lib="dom" />
import { signal } from '@preact/signals';
import { html } from 'htm/preact';
import { render } from 'preact';
import { ApiError, capabilities, type Capabilities } from './api.js';
import { PlanPreviewPage } from './plan-preview-page.js';
import { ReplayPage } from './replay-page.js';
import { RolloutPage } from './rollout-page.js';
import { RunPage } from './run-page.js';
import { RunsPage } from './runs-page.js';
import { adoptTokenFromAddress, hasToken, setToken } from './token.js';

/** `#/`, `#/runs/<id>`, `#/runs/<id>/replay`, `#/rollouts[/<id>]`, `#/plan`: hash routes, so the service serves one page. */
type Route = { page: 'runs' } | { page: 'run'; id: string } | { page: 'replay'; id: string } | { page: 'rollout'; id: string | null } | { page: 'plan' };

function routeOf(hash: string): Route {
  if (hash === '#/plan') return { page: 'plan' };
  const rollout = /^#\/rollouts(?:\/([^/]+))?$/.exec(hash);
  if (rollout) return { page: 'rollout', id: rollout[1] ? decodeURIComponent(rollout[1]) : null };
  const m = /^#\/runs\/([^/]+)(\/replay)?$/.exec(hash);
  if (!m) return { page: 'runs' };
  const id = decodeURIComponent(m[1]!);
  return m[2] ? { page: 'replay', id } : { page: 'run', id };
}

const route = signal(routeOf(location.hash));
addEventListener('hashchange', () => (route.value = routeOf(location.hash)));
const caps = signal<Capabilities | null>(null);
const capsError = signal<string | null>(null);
/** The service answered 401: 'missing' when the page has no token, 'refused' when it had a wrong one. */
const tokenNeeded = signal<'missing' | 'refused' | null>(null);

async function loadCapabilities(): Promise<void> {
  try {
    caps.value = await capabilities();
    capsError.value = null;
    tokenNeeded.value = null;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      // Asking again will not help: the operator has to give the token.
      tokenNeeded.value = hasToken() ? 'refused' : 'missing';
      return;
    }
    // The service may be restarting: try again until it answers.
    capsError.value = `the service does not answer (${String(e)}); trying again`;
    setTimeout(loadCapabilities, 1000);
  }
}
adoptTokenFromAddress();
void loadCapabilities();

function TokenForm({ why }: { why: 'missing' | 'refused' }) {
  const submit = (event: Event) => {
    event.preventDefault();
    setToken(String(new FormData(event.currentTarget as HTMLFormElement).get('token') ?? ''));
    void loadCapabilities();
  };
  return html`
    <section class="panel head" aria-label="service token">
      <h2>This service needs a token</h2>
      <p role="alert" data-testid="token-needed">
        ${why === 'missing'
          ? 'This service was started with --token-file: every request must carry its token.'
          : 'The service refused the token this page has: give the one in the file passed to --token-file.'}
        Open the page as <code>/ui/?token=…</code>, or paste it here; this browser keeps it until it closes.
      </p>
      <form class="start" onSubmit=${submit} aria-label="give the token">
        <label>token <input name="token" type="password" autocomplete="off" required /></label>
        <button type="submit">Use token</button>
      </form>
    </section>
  `;
}

function App() {
  const r = route.value;
  const c = caps.value;
  return html`
    <header class="top">
      <a href="#/" class="brand">keystep</a>
      <nav><a href="#/">Runs</a> <a href="#/rollouts">Rollouts</a> <a href="#/plan">Plan preview</a></nav>
      ${capsError.value ? html`<span class="warn" role="status">${capsError.value}</span>` : null}
    </header>
    <main>
      ${tokenNeeded.value !== null ? html`<${TokenForm} why=${tokenNeeded.value} />` : c === null ? html`<p>Loading…</p>` : pageOf(r, c)}
    </main>
  `;
}

function pageOf(r: Route, c: Capabilities) {
  switch (r.page) {
    case 'runs':
      return html`<${RunsPage} caps=${c} />`;
    case 'run':
      return html`<${RunPage} key=${r.id} id=${r.id} caps=${c} />`;
    case 'replay':
      return html`<${ReplayPage} key=${r.id} id=${r.id} />`;
    case 'rollout':
      return html`<${RolloutPage} id=${r.id} caps=${c} />`;
    case 'plan':
      return html`<${PlanPreviewPage} caps=${c} />`;
  }
}

render(html`<${App} />`, document.getElementById('app')!);
