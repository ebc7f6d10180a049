import { useSignal } from '@preact/signals';
import { html } from 'htm/preact';
import { fileUrl } from './api.js';
import type { DrawingView } from './drawing-feed.js';
import { nextKeyframe, type PlanView, type RunView, type StepView } from './run-view.js';

/**
 * A run's plans, steps, keyframes, validation and replans: the same for a live run and a replay. A live
 * run also passes the plan it is drawing, shown until that plan's record arrives with its keyframes.
 */
export function RunDisplay({ view, drawing }: { view: RunView; drawing?: DrawingView | null }) {
  // null: follow the newest plan version; a number: the tab the operator picked.
  const picked = useSignal<number | null>(null);
  const latest = view.plans.at(-1)?.version ?? null;
  const drawn = drawing && drawing.version > (latest ?? 0) ? drawing : null;
  const showDrawing = drawn !== null && (picked.value === null || picked.value === drawn.version);
  const selected = view.plans.find((p) => p.version === (picked.value ?? latest)) ?? view.plans.at(-1);
  const next = nextKeyframe(view);
  const onTabKey = (event: KeyboardEvent) => {
    if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
    const i = view.plans.findIndex((p) => p === selected);
    const to = view.plans[Math.max(0, Math.min(view.plans.length - 1, i + (event.key === 'ArrowRight' ? 1 : -1)))];
    if (to) {
      picked.value = to.version;
      (event.currentTarget as HTMLElement).querySelector<HTMLElement>(`[data-version="${to.version}"]`)?.focus();
    }
  };
  return html`
    <section class="panel status">
      <div><span class="label">executor</span> <strong data-testid="executor">${view.executor}</strong></div>
      <div><span class="label">outcome</span> <strong data-testid="outcome" class=${`state ${view.outcome ?? 'running'}`}>${view.outcome ? view.outcome.toUpperCase() : 'RUNNING'}</strong>
        ${view.reason ? html` <span data-testid="outcome-reason">${view.reason}</span>` : null}</div>
      <div><span class="label">plans</span> ${view.plans.length} <span class="label">replans</span> <span data-testid="replan-count">${view.replans.filter((r) => r.kind === 'replan').length}</span></div>
      ${view.badMessages > 0 ? html`<div class="warn">${view.badMessages} message(s) from the robot were not trusted</div>` : null}
    </section>

    <section class="panel now" aria-label="now">
      <figure>
        ${view.observation ? html`<img data-testid="observation" src=${fileUrl(view.runId, view.observation)} alt="latest observation" />` : html`<div class="blank">no observation yet</div>`}
        <figcaption>latest observation${view.observation ? ` (${view.observation}), taken to plan round ${view.observationRound ?? '?'}: the run logs a picture when it plans` : ''}</figcaption>
      </figure>
      ${next
        ? html`<figure>
            <img data-testid="next-keyframe" src=${fileUrl(view.runId, next.step.keyframe)} alt="next keyframe" />
            <figcaption>next: plan v${next.plan} step ${next.step.planStep} — ${next.step.instruction} (${next.step.state})</figcaption>
          </figure>`
        : html`<${LastKeyframe} view=${view} />`}
    </section>

    <section class="panel plans">
      <div role="tablist" aria-label="plan versions" onKeyDown=${onTabKey}>
        ${view.plans.map(
          (p) => html`<button role="tab" data-version=${p.version} aria-selected=${p === selected} tabIndex=${p === selected ? 0 : -1}
            class=${`tab ${p.validation ? (p.validation.ok ? 'ok' : 'refused') : 'pending'}`} onClick=${() => (picked.value = p.version)}>
            v${p.version}${p.validation && !p.validation.ok ? ' (refused)' : ''}
          </button>`,
        )}
        ${drawn
          ? html`<button role="tab" data-version=${drawn.version} aria-selected=${showDrawing} tabIndex=${showDrawing ? 0 : -1} class="tab pending" onClick=${() => (picked.value = null)}>
              v${drawn.version} (drawing)
            </button>`
          : null}
      </div>
      ${showDrawing ? html`<${DrawingPanel} drawing=${drawn} />` : selected ? html`<${PlanPanel} runId=${view.runId} plan=${selected} />` : html`<p>No plan yet.</p>`}
    </section>

    <section class="panel replans" aria-label="replans">
      <h3>Replans</h3>
      ${view.replans.length === 0
        ? html`<p>None.</p>`
        : html`<ol>${view.replans.map((r) => html`<li data-testid="replan" class=${r.kind}>${r.text}</li>`)}</ol>`}
    </section>
  `;
}

/** Once nothing is left to reach, the last keyframe reached: beside the latest observation, how the end looks against the plan. */
function LastKeyframe({ view }: { view: RunView }) {
  const last = view.plans.flatMap((p) => p.steps.filter((s) => s.state === 'done').map((step) => ({ plan: p.version, step }))).at(-1);
  if (!view.outcome || !last) {
    return html`<figure><div class="blank">no keyframe to reach</div><figcaption>next keyframe</figcaption></figure>`;
  }
  return html`<figure>
    <img data-testid="last-keyframe" src=${fileUrl(view.runId, last.step.keyframe)} alt="last keyframe reached" />
    <figcaption>last keyframe reached: plan v${last.plan} step ${last.step.planStep} — ${last.step.instruction}</figcaption>
  </figure>`;
}

function PlanPanel({ runId, plan }: { runId: string; plan: PlanView }) {
  const v = plan.validation;
  return html`
    <div role="tabpanel" aria-label=${`plan v${plan.version}`}>
      <p class="validation" data-testid="validation">
        ${v === undefined ? 'validating…' : v.ok ? `accepted${v.prefix !== undefined ? ` (its first ${v.prefix} steps)` : ''}${v.incomplete ? ', short of the task' : ''}` : 'refused by validation'}
        ${v?.stepBase !== undefined ? ` — runs as steps ${v.stepBase}…` : ''}${plan.retry > 0 ? ` — retry ${plan.retry}` : ''}
      </p>
      ${v && v.issues.length > 0
        ? html`<ul class="issues" aria-label="validation issues">
            ${v.issues.map((i) => html`<li class=${i.severity}>${i.severity} ${i.code}${i.step !== null ? ` (step ${i.step})` : ''}: ${i.message}</li>`)}
          </ul>`
        : null}
      <ol class="steps" aria-label="steps">
        ${plan.steps.map((s) => html`<li data-testid="step" data-state=${s.state}><span class=${`chip ${s.state}`}>${s.state}</span> ${s.instruction}${verdict(s)}</li>`)}
      </ol>
      <div class="strip" aria-label="keyframes">
        ${plan.steps.map(
          (s) => html`<figure data-testid="keyframe" data-state=${s.state}>
            <img src=${fileUrl(runId, s.keyframe)} alt=${`keyframe of step ${s.planStep}: ${s.instruction}`} loading="lazy" />
            <figcaption class=${`chip ${s.state}`}>${s.status ?? s.state}${s.keyframeDistance !== undefined ? ` · d=${s.keyframeDistance.toFixed(4)}` : ''}</figcaption>
          </figure>`,
        )}
      </div>
    </div>
  `;
}

/** The plan being drawn: each keyframe as its latest DiDA pass left it. A backend without passes shows the step texts only. */
function DrawingPanel({ drawing }: { drawing: DrawingView }) {
  return html`
    <div role="tabpanel" aria-label=${`plan v${drawing.version}, being drawn`} data-testid="drawing">
      <p class="validation">${drawing.ended ? `plan v${drawing.version} drawn; waiting for its record` : `drawing plan v${drawing.version}…`}</p>
      <ol class="steps" aria-label="steps being drawn">
        ${drawing.steps.map((s, i) => html`<li data-testid="drawing-step" data-step=${i}>${s.instruction ?? '…'}</li>`)}
      </ol>
      <div class="strip" aria-label="keyframes being drawn">
        ${drawing.steps.map((s, i) => {
          const f = s.pass;
          if (!f) return null;
          // Keyed by the pass, so every pass is a new picture on the page.
          return html`<figure key=${`${drawing.version}-${i}-${f.draw}-${f.pass}`} data-testid="drawing-pass" data-step=${i} data-draw=${f.draw} data-pass=${f.pass} data-passes=${f.passes}>
            <img src=${`data:image/png;base64,${f.picture}`} alt=${`keyframe of step ${i} being drawn: pass ${f.pass + 1} of ${f.passes}`} />
            <figcaption class="chip waiting">${f.draw > 0 ? `draw ${f.draw + 1} · ` : ''}drawing: pass ${f.pass + 1} of ${f.passes}${s.kept && f.pass + 1 === f.passes ? ' · kept' : ''}</figcaption>
          </figure>`;
        })}
      </div>
    </div>
  `;
}

function verdict(s: StepView): string {
  if (s.state !== 'missed') return s.stepIndex !== undefined ? ` (step ${s.stepIndex}, attempt ${s.attempt ?? 0})` : '';
  return ` — ${s.status}${s.reason ? `: ${s.reason}` : ''}`;
}
