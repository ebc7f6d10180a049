"""The robot side of keystep's contract, without ROS: plain Python 3, no imports beyond the standard
library, so it runs (and is tested) anywhere. keystep_robot.py wires it to rospy.

What it does (README, "The robot contract"; JSON Schemas in robot-kit/schemas/):
  - pairs each `execute` command with its keyframe (CompressedImage whose header.frame_id is
    "keystep:<step id>"), in whichever order the two arrive; a command whose keyframe does not come
    within `keyframe_wait_s` is answered `rejected`;
  - runs each step id at most once: a re-sent id (after a dropped connection or a --resume) is answered
    with the result it already has, marked "duplicate": true, or ignored while it is still running;
  - answers `accepted` when a step starts, then one of done / miss / rejected / cancelled;
  - handles `cancel`: a step still waiting (for its keyframe or its turn) is dropped and answered
    `cancelled`; a running step is asked to stop (`Step.cancelled`), and the user's function decides;
  - keeps the lease: one run at a time drives the robot (see LeaseBook).

Your robot code is one function, `execute(step) -> dict`, given a Step (instruction, action, the
keyframe PNG bytes, ...) and returning at least {"status": "done" | "miss" | "rejected"}, optionally
"reason", "action", "keyframeDistance" and "holding". The core fills in the ids and the stamp.
"""

import json
import threading
import time
from collections import OrderedDict

KEYFRAME_PREFIX = "keystep:"
TERMINAL = ("done", "miss", "rejected", "cancelled")


def step_id(run_id, step_index, attempt):
    """The idempotency key of one attempt at one step: "<runId>/<stepIndex>/<attempt>"."""
    return "%s/%d/%d" % (run_id, step_index, attempt)


class Step(object):
    """One execute command paired with its keyframe: what the user's function gets."""

    def __init__(self, command, keyframe, keyframe_format):
        self.command = command
        self.id = step_id(command["runId"], command["stepIndex"], command["attempt"])
        self.run_id = command["runId"]
        self.step_index = command["stepIndex"]
        self.attempt = command["attempt"]
        self.instruction = command["instruction"]
        # The structured reading of the instruction, when the planner gave one (verb, arms, object...).
        self.action = command.get("action")
        # The goal picture of the step, as sent: PNG bytes (keyframe_format says so).
        self.keyframe = keyframe
        self.keyframe_format = keyframe_format
        self._cancel = threading.Event()

    @property
    def cancelled(self):
        """True once keystep asked to stop this step: stop moving and return {"status": "cancelled"}."""
        return self._cancel.is_set()


class LeaseBook(object):
    """The lease (keystep's src/schema/lease.ts, LeaseHolder): who drives the robot, until when."""

    def __init__(self, default_ttl_s=10.0):
        self.default_ttl_s = default_ttl_s
        self.holder = None
        self.expires_at = 0.0

    def current(self, now):
        if self.holder is not None and now >= self.expires_at:
            self.holder = None
        return self.holder

    def handle(self, request, now):
        """A LeaseRequest dict -> the LeaseState dict to publish."""
        self.current(now)
        kind, run_id = request["kind"], request["runId"]
        if kind == "acquire":
            granted = self.holder is None or self.holder == run_id
            if granted:
                self.holder = run_id
                ttl_ms = request.get("ttlMs")
                self.expires_at = now + (ttl_ms / 1000.0 if ttl_ms else self.default_ttl_s)
        elif kind == "release":
            granted = self.holder == run_id
            if granted:
                self.holder = None
        else:  # query
            granted = self.holder is None or self.holder == run_id
        state = {
            "holder": self.holder,
            "answer": {"kind": kind, "runId": run_id, "seq": request["seq"], "granted": granted},
            "stamp": int(now * 1000),
        }
        if self.holder is not None:
            state["expiresInMs"] = max(0, int((self.expires_at - now) * 1000))
        return state


def _bounded_put(mapping, key, value, limit):
    mapping[key] = value
    mapping.move_to_end(key)
    while len(mapping) > limit:
        mapping.popitem(last=False)


class RobotCore(object):
    """
    The contract's bookkeeping. Feed it what arrives (on_command, on_keyframe, on_lease_request) and
    call tick() now and then; it calls `publish_feedback(dict)` and `publish_lease(dict)` with messages
    to send as JSON, and hands paired steps to `runner(fn)`, which must call fn() once: inline (the
    default, for tests) or on a worker thread (keystep_robot.py), so callbacks never block on a move.
    """

    def __init__(self, execute, publish_feedback, publish_lease, now=time.time, runner=None, keyframe_wait_s=3.0, lease_ttl_s=10.0, log=None):
        self.execute = execute
        self.publish_feedback = publish_feedback
        self.publish_lease = publish_lease
        self.now = now
        self.runner = runner or (lambda fn: fn())
        self.keyframe_wait_s = keyframe_wait_s
        self.lease = LeaseBook(lease_ttl_s)
        self.log = log or (lambda line: None)
        self._lock = threading.RLock()
        # Keyframes that came before their command, and commands waiting for their keyframe (by step id).
        self._keyframes = OrderedDict()
        self._waiting = OrderedDict()  # id -> (command, deadline)
        self._queued = {}  # id -> Step handed to the runner, not started yet
        self._running = {}  # id -> Step executing now
        self._results = OrderedDict()  # id -> terminal feedback dict, for duplicates

    # -- what arrives ------------------------------------------------------------------------------

    def on_command(self, data):
        """The JSON text of a std_msgs/String on the step topic."""
        try:
            command = json.loads(data)
            kind = command["kind"]
            ids = (command["runId"], int(command["stepIndex"]), int(command["attempt"]))
        except (ValueError, KeyError, TypeError) as e:
            self.log("ignored a step command that is not a StepCommand: %s" % e)
            return
        sid = step_id(*ids)
        with self._lock:
            if kind == "cancel":
                return self._cancel(command, sid)
            if kind != "execute" or not str(command.get("instruction", "")).strip():
                return self._answer(command, "rejected", "malformed step command: %s" % ("no instruction" if kind == "execute" else "unknown kind %r" % kind))
            if sid in self._results:
                # Sent again after a drop or a resume: never act twice, say what happened.
                repeat = dict(self._results[sid])
                repeat["duplicate"] = True
                self.publish_feedback(repeat)
                return
            if sid in self._running or sid in self._queued or sid in self._waiting:
                return
            if sid in self._keyframes:
                fmt, png = self._keyframes.pop(sid)
                return self._start(Step(command, png, fmt))
            self._waiting[sid] = (command, self.now() + self.keyframe_wait_s)

    def on_keyframe(self, frame_id, fmt, data):
        """A CompressedImage on the keyframe topic: its header.frame_id, format and data bytes."""
        if not frame_id.startswith(KEYFRAME_PREFIX):
            self.log("ignored a keyframe without a %s<step id> frame_id: %r" % (KEYFRAME_PREFIX, frame_id))
            return
        sid = frame_id[len(KEYFRAME_PREFIX):]
        with self._lock:
            waiting = self._waiting.pop(sid, None)
            if waiting is not None:
                return self._start(Step(waiting[0], bytes(data), fmt))
            if sid in self._results or sid in self._running or sid in self._queued:
                return
            # Keep memory bounded: the keyframes of the steps in flight, not of a whole run.
            _bounded_put(self._keyframes, sid, (fmt, bytes(data)), 64)

    def on_lease_request(self, data):
        """The JSON text of a std_msgs/String on the lease topic."""
        try:
            request = json.loads(data)
            if request["kind"] not in ("acquire", "release", "query") or not request["runId"]:
                raise ValueError("unknown kind")
            int(request["seq"])
        except (ValueError, KeyError, TypeError) as e:
            self.log("ignored a lease request that is not a LeaseRequest: %s" % e)
            return
        with self._lock:
            before = self.lease.current(self.now())
            state = self.lease.handle(request, self.now())
            if state["holder"] != before:
                self.log("lease: held by run %s" % state["holder"] if state["holder"] else "lease: free")
        self.publish_lease(state)

    def tick(self):
        """Answers `rejected` for commands whose keyframe never came. Call it a few times a second."""
        now = self.now()
        with self._lock:
            late = [(sid, c) for sid, (c, deadline) in self._waiting.items() if now >= deadline]
            for sid, command in late:
                del self._waiting[sid]
                self._answer(command, "rejected", "no keyframe with frame_id %s%s arrived within %.1f s" % (KEYFRAME_PREFIX, sid, self.keyframe_wait_s))

    def holder(self):
        """The run holding the lease now, or None."""
        with self._lock:
            return self.lease.current(self.now())

    # -- inside ------------------------------------------------------------------------------------

    def _cancel(self, command, sid):
        reason = command.get("reason") or "cancelled"
        waiting = self._waiting.pop(sid, None)
        queued = self._queued.pop(sid, None)
        if waiting is not None or queued is not None:
            if queued is not None:
                queued._cancel.set()
            return self._answer(command, "cancelled", reason)
        running = self._running.get(sid)
        if running is not None:
            running._cancel.set()
            self.log("cancel %s: asked the running step to stop" % sid)
            return
        self.log("cancel %s: nothing to stop (already ran, or never came)" % sid)

    def _start(self, step):
        self._queued[step.id] = step

        def run():
            with self._lock:
                if self._queued.pop(step.id, None) is None:
                    return  # cancelled while it waited for its turn
                self._running[step.id] = step
            self.publish_feedback(self._feedback(step.command, "accepted"))
            try:
                result = self.execute(step) or {}
                status = result.get("status")
                if status not in TERMINAL:
                    result = {"status": "rejected", "reason": "the robot's execute() returned status %r" % status}
            except Exception as e:  # the user's function failed: say so, do not hang keystep
                result = {"status": "miss", "reason": "execute() raised %s: %s" % (type(e).__name__, e)}
            with self._lock:
                self._running.pop(step.id, None)
                extra = dict((k, v) for k, v in result.items() if k in ("reason", "action", "keyframeDistance", "holding"))
                self._answer(step.command, result["status"], extra.pop("reason", None), extra)

        self.runner(run)

    def _feedback(self, command, status, reason=None, extra=None):
        fb = {"runId": command["runId"], "stepIndex": int(command["stepIndex"]), "attempt": int(command["attempt"]), "status": status, "stamp": int(self.now() * 1000)}
        if reason:
            fb["reason"] = reason
        fb.update(extra or {})
        return fb

    def _answer(self, command, status, reason=None, extra=None):
        fb = self._feedback(command, status, reason, extra)
        if status in TERMINAL:
            _bounded_put(self._results, step_id(command["runId"], int(command["stepIndex"]), int(command["attempt"])), fb, 1024)
        self.publish_feedback(fb)
