import { useSignal } from '@preact/signals';
import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import type { PlanStreamFrame } from '../src/service/plan-stream-frames.js';
import type { Capabilities } from './api.js';

/** /v1/plans/stream takes a first frame of at most 64 KiB (routes/plan-stream.ts); larger pictures go to POST /v1/plans. */
const FIRST_FRAME_LIMIT = 64 * 1024;

type PassFrame = Extract<PlanStreamFrame, { type: 'pass' }>;
type PlanFrame = Extract<PlanStreamFrame, { type: 'plan' }>;

interface PreviewStep {
  instruction: string;
  /** Every pass of every draw, in the order they came. */
  passes: PassFrame[];
  keyframe?: string;
}

interface Preview {
  state: 'idle' | 'connecting' | 'drawing' | 'done' | 'failed';
  steps: PreviewStep[];
  plan?: PlanFrame;
  error?: string;
}

/**
 * A plan drawn by the embedded model, watched as it is written: the step texts, then every DiDA pass
 * of every keyframe as /v1/plans/stream sends it, then the plan and its validation.
 */
export function PlanPreviewPage({ caps }: { caps: Capabilities }) {
  const preview = useSignal<Preview>({ state: 'idle', steps: [] });
  const socket = useRef<WebSocket | null>(null);
  useEffect(() => () => socket.current?.close(), []);
  if (!caps.paths.has('GET /v1/plans/stream')) {
    return html`<section class="panel head"><p class="warn">This service has no plan stream (GET /v1/plans/stream is missing).</p></section>`;
  }
  const start = async (event: Event) => {
    event.preventDefault();
    socket.current?.close();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const request = await requestOf(form);
    if ('refused' in request) {
      preview.value = { state: 'failed', steps: [], error: request.refused };
      return;
    }
    preview.value = { state: 'connecting', steps: [] };
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/v1/plans/stream`);
    socket.current = ws;
    ws.onopen = () => ws.send(request.json);
    ws.onmessage = (message) => (preview.value = withFrame(preview.value, JSON.parse(String(message.data)) as PlanStreamFrame));
    ws.onclose = (close) => {
      const p = preview.value;
      if (socket.current === ws && p.state !== 'done' && p.state !== 'failed') {
        preview.value = { ...p, state: 'failed', error: `the stream closed before the plan came (${close.code}${close.reason ? `: ${close.reason}` : ''})` };
      }
    };
  };
  const p = preview.value;
  return html`
    <section class="panel head">
      <h2>Plan preview</h2>
      <p>The embedded model plans a task from one picture; each keyframe appears pass by pass as DiDA fills it in. Nothing is sent to a robot.</p>
      <form class="start" onSubmit=${start} aria-label="preview a plan">
        <label>robot <input name="robot" required defaultValue="aloha-agilex" /></label>
        <label>scene <select name="scene"><option value="">from the task</option>${['tshirt', 'table'].map((s) => html`<option value=${s}>${s}</option>`)}</select></label>
        <label>task <input name="task" required defaultValue="fold the t-shirt" /></label>
        <label>observation <input name="observation" type="file" accept="image/png,image/jpeg" required /></label>
        <label>seed <input name="seed" type="number" min="0" defaultValue="0" required /></label>
        <label>DiDA passes <input name="passes" type="number" min="1" max="16" defaultValue="4" required /></label>
        <button type="submit" disabled=${p.state === 'connecting' || p.state === 'drawing'}>Draw plan</button>
      </form>
      <p data-testid="preview-status" class=${p.state === 'failed' ? 'error' : ''} role="status">${statusOf(p)}</p>
      ${p.plan && p.plan.validation.issues.length > 0
        ? html`<ul class="issues">${p.plan.validation.issues.map((i) => html`<li class=${i.severity}>${i.severity} ${i.code}: ${i.message}</li>`)}</ul>`
        : null}
    </section>
    ${p.steps.length > 0
      ? html`<section class="panel plans" aria-label="plan being drawn">
          <ol class="preview-steps">${p.steps.map((s, i) => html`<${PreviewRow} index=${i} step=${s} />`)}</ol>
        </section>`
      : null}
  `;
}

function PreviewRow({ index, step }: { index: number; step: PreviewStep }) {
  return html`<li data-testid="preview-step" data-step=${index}>
    <div>${step.instruction}</div>
    <div class="strip">
      ${step.passes.map(
        (f) => html`<figure data-testid="pass" data-step=${f.step} data-draw=${f.draw} data-pass=${f.pass} data-filled=${f.filled}>
          <img src=${`data:image/png;base64,${f.picture}`} alt=${`step ${f.step} draw ${f.draw} pass ${f.pass + 1} of ${f.passes}`} />
          <figcaption>${f.draw > 0 ? `draw ${f.draw + 1} · ` : ''}pass ${f.pass + 1}/${f.passes} · ${Math.round((100 * f.filled) / f.cells)} %</figcaption>
        </figure>`,
      )}
      ${step.keyframe
        ? html`<figure data-testid="preview-keyframe" data-step=${index} class="kept">
            <img src=${`data:image/png;base64,${step.keyframe}`} alt=${`keyframe of step ${index}`} />
            <figcaption>kept keyframe</figcaption>
          </figure>`
        : null}
    </div>
  </li>`;
}

/** The first frame: a POST /v1/plans body with the picture in base64, or why it cannot be sent. */
async function requestOf(form: FormData): Promise<{ json: string } | { refused: string }> {
  const file = form.get('observation');
  if (!(file instanceof File) || file.size === 0) return { refused: 'pick a PNG or JPEG picture from the robot\'s keyframe camera' };
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  const text = (k: string) => String(form.get(k) ?? '').trim();
  const body = {
    robot: text('robot'),
    task: text('task'),
    ...(text('scene') !== '' ? { scene: text('scene') } : {}),
    observation: btoa(binary),
    sampling: { seed: Number(text('seed')), passes: Number(text('passes')) },
  };
  const json = JSON.stringify(body);
  if (json.length > FIRST_FRAME_LIMIT) {
    return { refused: `${file.name} is ${Math.round(file.size / 1024)} KiB: the plan stream takes a request of at most 64 KiB, so use a smaller picture (POST /v1/plans takes larger ones)` };
  }
  return { json };
}

function withFrame(p: Preview, frame: PlanStreamFrame): Preview {
  const steps = [...p.steps];
  const at = (i: number) => (steps[i] = { ...(steps[i] ?? { instruction: '', passes: [] }) });
  switch (frame.type) {
    case 'step':
      at(frame.index).instruction = frame.instruction;
      return { ...p, state: 'drawing', steps };
    case 'pass': {
      const s = at(frame.step);
      s.passes = [...s.passes, frame];
      return { ...p, state: 'drawing', steps };
    }
    case 'keyframe':
      at(frame.step).keyframe = frame.keyframe;
      return { ...p, steps };
    case 'plan':
      return { ...p, state: 'done', steps, plan: frame };
    case 'error':
      return { ...p, state: 'failed', error: [frame.message, ...(frame.issues ?? []).map((i) => `${i.path}: ${i.message}`)].join('\n') };
  }
}

function statusOf(p: Preview): string {
  switch (p.state) {
    case 'idle':
      return 'Pick a picture and draw a plan.';
    case 'connecting':
      return 'connecting…';
    case 'drawing': {
      const last = p.steps.flatMap((s) => s.passes).at(-1);
      return last ? `drawing the keyframe of step ${last.step}: pass ${last.pass + 1} of ${last.passes}` : `writing ${p.steps.length} step texts…`;
    }
    case 'done': {
      const plan = p.plan!;
      const v = plan.validation;
      return `plan ready: ${plan.plan.steps.length} steps, ${v.ok ? 'accepted' : 'refused'} by validation · planned in ${Math.round(plan.timing.planMs)} ms on ${plan.timing.device}`;
    }
    case 'failed':
      return p.error ?? 'failed';
  }
}
