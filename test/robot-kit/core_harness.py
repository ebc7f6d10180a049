"""Drives robot-kit/keystep_core.py from JSON lines on stdin, for test/robot-kit/keystep-core.test.ts.

In:  {"on": "command", "data": "<StepCommand JSON>"} | {"on": "keyframe", "frameId": ..., "format": "png", "data": "<base64>"}
     {"on": "lease", "data": "<LeaseRequest JSON>"} | {"on": "clock", "t": <seconds>} | {"on": "tick"}
Out: {"feedback": {...}} | {"lease": {...}} | {"executed": {"id": ..., "keyframe": "<base64>", "instruction": ...}}
The robot function answers "miss" for instructions with "slip" in them and "done" otherwise.
"""
import base64
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "robot-kit"))
from keystep_core import RobotCore  # noqa: E402

clock = [1767607200.0]


def out(value):
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


def execute(step):
    out({"executed": {"id": step.id, "instruction": step.instruction, "keyframe": base64.b64encode(step.keyframe).decode()}})
    if "slip" in step.instruction:
        return {"status": "miss", "reason": "slip", "holding": {"left": None}}
    return {"status": "done"}


core = RobotCore(execute, lambda fb: out({"feedback": fb}), lambda s: out({"lease": s}), now=lambda: clock[0], keyframe_wait_s=3.0)
for line in sys.stdin:
    if not line.strip():
        continue
    event = json.loads(line)
    on = event["on"]
    if on == "command":
        core.on_command(event["data"])
    elif on == "keyframe":
        core.on_keyframe(event["frameId"], event.get("format", "png"), base64.b64decode(event["data"]))
    elif on == "lease":
        core.on_lease_request(event["data"])
    elif on == "clock":
        clock[0] = event["t"]
    elif on == "tick":
        core.tick()
    out({"done": on})
