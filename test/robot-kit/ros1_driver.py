"""Drives robot-kit/keystep_robot.py over a real ROS 1 master, as keystep does through rosbridge:
publishes a keyframe and its command (and the command again), asks for the lease twice, and prints
what comes back on the feedback and lease state topics as JSON lines. For ros1-node.test.ts."""
import json
import sys
import time

import rospy
from sensor_msgs.msg import CompressedImage
from std_msgs.msg import String

rospy.init_node("keystep_test_driver", anonymous=True)
out = []
feedback = rospy.Subscriber("/keystep/feedback", String, lambda m: out.append({"feedback": json.loads(m.data)}))
lease_state = rospy.Subscriber("/keystep/lease_state", String, lambda m: out.append({"lease": json.loads(m.data)}))
step = rospy.Publisher("/keystep/step", String, queue_size=10)
keyframe = rospy.Publisher("/keystep/keyframe", CompressedImage, queue_size=10)
lease = rospy.Publisher("/keystep/lease", String, queue_size=10)

deadline = time.time() + 20
while time.time() < deadline and not rospy.is_shutdown():
    if min(p.get_num_connections() for p in (step, keyframe, lease)) > 0 and feedback.get_num_connections() > 0 and lease_state.get_num_connections() > 0:
        break
    time.sleep(0.05)
else:
    sys.exit("the robot node never connected to the driver's topics")

lease.publish(String(data=json.dumps({"kind": "acquire", "runId": "run-a", "ttlMs": 10000, "seq": 0})))
lease.publish(String(data=json.dumps({"kind": "acquire", "runId": "run-b", "ttlMs": 10000, "seq": 0})))
# The command first, its keyframe after: the node must hold the command until the keyframe comes.
command = {"kind": "execute", "runId": "run-a", "stepIndex": 0, "attempt": 0, "instruction": "tidy the collar with the right arm"}
step.publish(String(data=json.dumps(command)))
time.sleep(0.2)
image = CompressedImage()
image.header.frame_id = "keystep:run-a/0/0"
image.format = "png"
image.data = b"\x89PNG\r\n\x1a\n-not-really"
keyframe.publish(image)
time.sleep(0.5)
step.publish(String(data=json.dumps(command)))

deadline = time.time() + 10
while time.time() < deadline and len([o for o in out if "feedback" in o]) < 3:
    time.sleep(0.05)
time.sleep(0.3)
for o in out:
    print("KEYSTEP " + json.dumps(o))
