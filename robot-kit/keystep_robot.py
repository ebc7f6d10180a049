#!/usr/bin/env python3
"""A reference robot node for keystep on ROS 1 (rospy): the robot end of keystep's contract.

keystep (through rosbridge_server) publishes step commands and keyframes; this node pairs them,
runs each step id once, calls your `execute(step)`, and answers on the feedback topic. It also keeps
the robot's lease, so a second keystep executor is refused while one runs.

    rosrun <your_pkg> keystep_robot.py                       # topics from the parameters below
    python3 keystep_robot.py _step_topic:=/keystep/step      # or straight from a sourced ROS 1 shell

Put your robot code in `execute` (or import this module and pass your own function to
KeystepRobotNode). The bookkeeping lives in keystep_core.py, which needs no ROS and is tested on its
own; this file is only the rospy wiring. Topic names default to the shipped profiles' and must match
your robot profile's `ros` section (robots/<id>.json); the types are the ROS 1 spellings.

Parameters (private, ~name): step_topic, keyframe_topic, feedback_topic, lease_topic,
lease_state_topic, keyframe_wait_s (3.0), lease_ttl_s (10.0).
"""

import json
import queue
import threading

import rospy
from sensor_msgs.msg import CompressedImage
from std_msgs.msg import String

from keystep_core import RobotCore


def execute(step):
    """
    Your robot code. `step` has: instruction (text), action (dict or None: verb, arms, object, part,
    target, position... when the planner gave one), keyframe (PNG bytes of the goal picture),
    keyframe_format, run_id, step_index, attempt, id, and `cancelled` (True once keystep asked you to
    stop). Move the robot, then return:
      {"status": "done"}                                  the outcome matches the keyframe
      {"status": "miss", "reason": "slip"}                it acted, the outcome differs
      {"status": "rejected", "reason": "cannot reach"}    it did not act
      {"status": "cancelled"}                             it stopped because step.cancelled
    and optionally "holding": {"left": "shirt.bottom_left", "right": None} (what each gripper holds).
    """
    rospy.loginfo("keystep step %s: %s", step.id, step.instruction)
    return {"status": "rejected", "reason": "this reference node has no robot behind it: write execute()"}


class KeystepRobotNode(object):
    def __init__(self, execute_fn=execute):
        step_topic = rospy.get_param("~step_topic", "/keystep/step")
        keyframe_topic = rospy.get_param("~keyframe_topic", "/keystep/keyframe")
        feedback_topic = rospy.get_param("~feedback_topic", "/keystep/feedback")
        lease_topic = rospy.get_param("~lease_topic", "/keystep/lease")
        lease_state_topic = rospy.get_param("~lease_state_topic", "/keystep/lease_state")
        self.feedback_pub = rospy.Publisher(feedback_topic, String, queue_size=100)
        self.lease_pub = rospy.Publisher(lease_state_topic, String, queue_size=10)
        # One step at a time, in arrival order, off the subscriber threads: a move takes seconds.
        self.work = queue.Queue()
        self.core = RobotCore(
            execute=execute_fn,
            publish_feedback=lambda fb: self.feedback_pub.publish(String(data=_json(fb))),
            publish_lease=lambda state: self.lease_pub.publish(String(data=_json(state))),
            now=rospy.get_time,
            runner=self.work.put,
            keyframe_wait_s=float(rospy.get_param("~keyframe_wait_s", 3.0)),
            lease_ttl_s=float(rospy.get_param("~lease_ttl_s", 10.0)),
            log=rospy.loginfo,
        )
        rospy.Subscriber(step_topic, String, lambda m: self.core.on_command(m.data), queue_size=100)
        rospy.Subscriber(keyframe_topic, CompressedImage, self._on_keyframe, queue_size=10, buff_size=2 ** 24)
        rospy.Subscriber(lease_topic, String, lambda m: self.core.on_lease_request(m.data), queue_size=10)
        rospy.Timer(rospy.Duration(0.2), lambda _: self.core.tick())
        threading.Thread(target=self._worker, daemon=True).start()
        rospy.loginfo("keystep robot node: steps on %s, keyframes on %s, feedback on %s, lease on %s/%s", step_topic, keyframe_topic, feedback_topic, lease_topic, lease_state_topic)

    def _on_keyframe(self, msg):
        self.core.on_keyframe(msg.header.frame_id, msg.format, bytes(bytearray(msg.data)))

    def _worker(self):
        while not rospy.is_shutdown():
            try:
                job = self.work.get(timeout=0.5)
            except queue.Empty:
                continue
            job()


def _json(value):
    return json.dumps(value, separators=(",", ":"))


if __name__ == "__main__":
    rospy.init_node("keystep_robot")
    KeystepRobotNode()
    rospy.spin()
