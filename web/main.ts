/// <reference lib="dom" />
import { signal } from '@preact/signals';
import { html } from 'htm/preact';
import { render } from 'preact';
import { capabilities, type Capabilities } from './api.js';
import { ReplayPage } from './replay-page.js';
import { RolloutPage } from './rollout-page.js';
import { RunPage } from './run-page.js';
import { RunsPage } from './runs-page.js';

/** `#/`, `#/runs/<id>`, `#/runs/<id>/replay`, `#/rollouts[/<id>]`: hash routes, so the service serves one page. */
type Route = { page: 'runs' } | { page: 'run'; id: string } | { page: 'replay'; id: string } | { page: 'rollout'; id: string | null };

function routeOf(hash: string): Route {
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

async function loadCapabilities(): Promise<void> {
  try {
    caps.value = await capabilities();
    capsError.value = null;
  } catch (e) {
    // The service may be restarting: try again until it answers.
    capsError.value = `the service does not answer (${String(e)}); trying again`;
    setTimeout(loadCapabilities, 1000);
  }
}
void loadCapabilities();

function App() {
  const r = route.value;
  const c = caps.value;
  return html`
    <header class="top">
      <a href="#/" class="brand">keystep</a>
      <nav><a href="#/">Runs</a> <a href="#/rollouts">Rollouts</a></nav>
      ${capsError.value ? html`<span class="warn" role="status">${capsError.value}</span>` : null}
    </header>
    <main>
      ${c === null
        ? html`<p>Loading…</p>`
        : r.page === 'runs'
          ? html`<${RunsPage} caps=${c} />`
          : r.page === 'run'
            ? html`<${RunPage} key=${r.id} id=${r.id} caps=${c} />`
            : r.page === 'rollout'
              ? html`<${RolloutPage} id=${r.id} caps=${c} />`
              : html`<${ReplayPage} key=${r.id} id=${r.id} />`}
    </main>
  `;
}

render(html`<${App} />`, document.getElementById('app')!);
