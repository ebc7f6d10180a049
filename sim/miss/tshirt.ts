import type { Action, Point2 } from '../../src/schema/index.js';
import { lerp } from '../../src/scenes/geometry.js';
import {
  PART_WORDS, arm, carrierOf, doFold, featureAtCentre, fmt, foldGrips, ordered, perform, setArms,
} from '../../src/scenes/tshirt/logic.js';
import type { FoldId, TshirtState } from '../../src/scenes/tshirt/model.js';
import { FEATURES, FOLD_IDS, collarPoint, featureAt, foldOf, localCentre, poseAt, r4, rp } from '../../src/scenes/tshirt/model.js';
import type { Rng } from '../../src/util/rng.js';
import type { MissKind, MissModel, MissOutcome } from './miss-model.js';

/**
 * How T-shirt steps fail: a grasp closes on nothing, a fold stops part of the way, the bottom falls
 * back flat mid-lift, one of two held corners slips, the folded shirt drops on its way aside.
 */
/** The ways this action can fail. */
export function missKinds(action: Action): MissKind[] {
  switch (action.verb) {
    case 'fold':
      return action.part === 'bottom' ? ['slip', 'drop', 'partial_fold'] : ['slip', 'partial_fold'];
    case 'move':
      return ['slip', 'drop'];
    default:
      return ['slip'];
  }
}

/** Every acting arm goes to where it would have grasped, open, nothing held. */
function reachedOpen(state: TshirtState, action: Action): TshirtState {
  let a = state.arms;
  const at = (name: string): Point2 => {
    if (action.verb === 'fold' && action.part !== undefined && (FOLD_IDS as readonly string[]).includes(action.part)) {
      const g = foldGrips(state, action.part as FoldId, action.arms).find((x) => x.arm === name);
      if (g !== undefined) return featureAt(state, g.feature);
    }
    if (action.verb === 'grasp') {
      const left = action.part === 'bottom_left' || (action.part === 'bottom_corners' && ordered(state, action.arms)[0] === name);
      return featureAt(state, left ? FEATURES.bottomLeft : FEATURES.bottomRight);
    }
    if (action.verb === 'tidy') return collarPoint(state);
    if (action.verb === 'move') return featureAtCentre(state);
    return arm(state, name).pos;
  };
  for (const name of action.arms) {
    a = setArms(a, name, at(name), false, null);
  }
  return { ...state, arms: a };
}

export function missOfKind(state: TshirtState, action: Action, kind: MissKind, rng: Rng): MissOutcome<TshirtState> {
  const arms = action.arms.join(' and ');
  const part = action.part;
  if (kind === 'partial_fold' && action.verb === 'fold' && part !== undefined && (FOLD_IDS as readonly string[]).includes(part)) {
    const extent = r4(rng.range(0.35, 0.7));
    const id = part as FoldId;
    const holders = id === 'bottom' ? foldGrips(state, id, action.arms).map((g) => g.arm) : action.arms;
    return {
      kind,
      state: doFold(state, id, holders, extent),
      reason: `the ${arms} arm${action.arms.length > 1 ? 's' : ''} stopped short: ${PART_WORDS[id]} is folded only ${Math.round(extent * 100)}% of the way`,
    };
  }
  if (kind === 'drop' && action.verb === 'fold' && part === 'bottom') {
    const grips = foldGrips(state, 'bottom', action.arms);
    const full = doFold(state, 'bottom', grips.map((g) => g.arm), 1);
    const t = rng.range(0.25, 0.6);
    let a = state.arms;
    for (const g of grips) a = setArms(a, g.arm, lerp(arm(state, g.arm).pos, arm(full, g.arm).pos, t), false, null);
    return {
      kind,
      state: { ...state, folds: state.folds.filter((f) => f.id !== 'bottom'), arms: a },
      reason: 'both corners slipped out mid-lift and the bottom fell back flat',
    };
  }
  if (kind === 'drop' && action.verb === 'move') {
    const c = localCentre(state);
    const at: Point2 = [rng.range(-0.12, 0.12), rng.range(-0.1, 0.12)];
    const angle = rng.range(-0.35, 0.35);
    const pose = poseAt(c, at, angle);
    let a = setArms(state.arms, carrierOf(state, action), at, false, null);
    for (const other of action.arms) if (other !== carrierOf(state, action)) a = setArms(a, other, featureAtCentre(state), false, null);
    return {
      kind,
      state: { ...state, pose, aside: null, arms: a },
      reason: `the folded shirt fell out of the ${arms} gripper and landed at ${fmt(rp(at))}, not aside`,
    };
  }
  if (action.verb === 'release') {
    return { kind: 'slip', state, reason: 'the cloth stuck to the gripper fingers; nothing was let go' };
  }
  // Slip.
  if (action.verb === 'grasp' && part === 'bottom_corners') {
    const which = rng.int(3); // 0: left slipped, 1: right slipped, 2: both
    const [l, r] = ordered(state, action.arms);
    const done = perform(state, action);
    let a = done.arms;
    if (which !== 1) a = setArms(a, l!, arm(done, l!).pos, false, null);
    if (which !== 0) a = setArms(a, r!, arm(done, r!).pos, false, null);
    const lost = which === 0 ? 'the bottom-left corner' : which === 1 ? 'the bottom-right corner' : 'both corners';
    return { kind: 'slip', state: { ...done, arms: a }, reason: `${lost} slipped out of the gripper${which === 2 ? 's' : ''}` };
  }
  if (action.verb === 'fold' && part === 'bottom') {
    // One corner slips before the lift; the other arm keeps its corner.
    const grips = foldGrips(state, 'bottom', action.arms);
    const g = grips[rng.int(grips.length)]!;
    return {
      kind: 'slip',
      state: { ...state, arms: setArms(state.arms, g.arm, arm(state, g.arm).pos, false, null) },
      reason: `the corner slipped out of the ${g.arm} gripper before the lift`,
    };
  }
  return {
    kind: 'slip',
    state: reachedOpen(state, action),
    reason: `the ${arms} gripper${action.arms.length > 1 ? 's' : ''} closed on nothing: ${PART_WORDS[part ?? ''] ?? 'the shirt'} slipped`,
  };
}

/**
 * The two-miss chain behind a one-corner grasp on a half-folded bottom: a bottom fold that has not
 * started stops short (the arms still hold the corners), and its retry loses one corner before the
 * lift. The grasp that follows starts from a folded-up corner, not a flat one, and it comes only
 * where two misses meet, so the training data barely has it. Null for every other step.
 */
export function slippedFoldMiss(state: TshirtState, action: Action, rng: Rng): MissOutcome<TshirtState> | null {
  if (action.verb !== 'fold' || action.part !== 'bottom') return null;
  const bottom = foldOf(state, 'bottom');
  if (bottom === undefined) return missOfKind(state, action, 'partial_fold', rng);
  return bottom.extent < 1 ? missOfKind(state, action, 'slip', rng) : null;
}

export function miss(state: TshirtState, action: Action, rng: Rng): MissOutcome<TshirtState> {
  return missOfKind(state, action, rng.pick(missKinds(action)), rng);
}

export const tshirtMisses: MissModel<TshirtState> = { kinds: (_state, action) => missKinds(action), ofKind: missOfKind, miss };
