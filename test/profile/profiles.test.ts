import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProfileError } from '../../src/errors/profile-error.js';
import { listProfiles, loadProfile, parseProfile } from '../../src/profile/load.js';
import { schemaDocuments } from '../../src/schema/json-schema.js';
import { PACKAGE_ROOT, ROBOTS_DIR } from '../../src/paths.js';

const base = () => JSON.parse(readFileSync(join(ROBOTS_DIR, 'aloha-agilex.json'), 'utf8'));

function problemsOf(raw: unknown, file = 'robots/broken.json'): { path: string; message: string }[] {
  try {
    parseProfile(JSON.stringify(raw), file);
  } catch (e) {
    expect(e).toBeInstanceOf(ProfileError);
    const err = e as ProfileError;
    expect(err.file).toBe(file);
    expect(err.message).toContain(file);
    return [...err.problems];
  }
  throw new Error('profile was accepted');
}

describe('robot profiles', () => {
  it('ships the ALOHA pair, an AgiBot and a single-arm robot, all valid', () => {
    const ids = listProfiles();
    expect(ids).toEqual(expect.arrayContaining(['aloha-agilex', 'aloha-stanford', 'agibot-g1', 'franka-fr3']));
    for (const id of ids) {
      const p = loadProfile(id);
      expect(p.id).toBe(id);
      expect(p.cameras.map((c) => c.name)).toContain(p.keyframeCamera);
    }
    expect(loadProfile('franka-fr3').arms).toHaveLength(1);
    expect(loadProfile('franka-fr3').bimanual).toBe(false);
  });

  it('uses the public topic and joint names', () => {
    const agilex = loadProfile('aloha-agilex');
    expect(agilex.arms.map((a) => a.jointStates.name)).toEqual(['/puppet/joint_left', '/puppet/joint_right']);
    expect(agilex.cameras.map((c) => c.topic)).toContain('/camera_f/color/image_raw');
    const stanford = loadProfile('aloha-stanford');
    expect(stanford.cameras.map((c) => c.name)).toEqual(['cam_high', 'cam_low', 'cam_left_wrist', 'cam_right_wrist']);
    expect(stanford.arms[0]!.joints).toEqual(['waist', 'shoulder', 'elbow', 'forearm_roll', 'wrist_angle', 'wrist_rotate']);
    expect(stanford.arms[0]!.gripper.joint).toBe('gripper');
    expect(stanford.arms[1]!.jointStates.name).toBe('/puppet_right/joint_states');
  });

  it('names the field of an unknown key', () => {
    const raw = base();
    raw.arms[0].reach = 0.7;
    expect(problemsOf(raw)).toEqual([{ path: 'arms[0]', message: 'unknown field(s) "reach"' }]);
  });

  it('names the field of a wrong type', () => {
    const raw = base();
    raw.arms[1].dof = 'six';
    const problems = problemsOf(raw);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe('arms[1].dof');
  });

  it('names a missing topic', () => {
    const raw = base();
    delete raw.ros.feedback;
    expect(problemsOf(raw).map((p) => p.path)).toEqual(['ros.feedback']);
  });

  it('refuses a malformed topic name', () => {
    const raw = base();
    raw.cameras[0].topic = 'camera_f image';
    expect(problemsOf(raw).map((p) => p.path)).toEqual(['cameras[0].topic']);
  });

  it('refuses a duplicate arm', () => {
    const raw = base();
    raw.arms[1].name = 'left';
    const problems = problemsOf(raw);
    expect(problems).toContainEqual({ path: 'arms[1].name', message: 'duplicate arm "left"' });
  });

  it('refuses an empty workspace box and a keyframe camera it does not have', () => {
    const raw = base();
    raw.arms[0].workspace.min[0] = 1;
    raw.keyframeCamera = 'cam_top';
    const paths = problemsOf(raw).map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['arms[0].workspace', 'keyframeCamera']));
  });

  it('refuses a bimanual single-arm robot', () => {
    const raw = JSON.parse(readFileSync(join(ROBOTS_DIR, 'franka-fr3.json'), 'utf8'));
    raw.bimanual = true;
    expect(problemsOf(raw, 'robots/franka-fr3.json').map((p) => p.path)).toEqual(['bimanual']);
  });

  it('reports bad JSON and a missing file with the file name', () => {
    expect(() => parseProfile('{"id": ', 'robots/x.json')).toThrow(/robots\/x\.json: not valid JSON/);
    expect(() => loadProfile('no-such-robot')).toThrow(/no robot profile at .*no-such-robot\.json\. Known robots: .*aloha-agilex/);
  });

  it('refuses an id that does not match the file name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keystep-profile-'));
    const file = join(dir, 'my-robot.json');
    writeFileSync(file, JSON.stringify(base()));
    expect(() => loadProfile(file)).toThrow(/id: is "aloha-agilex" but the file is named my-robot\.json/);
  });

  it('lists exactly dof joint names per arm, the gripper joint apart (the ALOHA profiles had 7 names for dof 6)', () => {
    for (const id of listProfiles()) {
      for (const arm of loadProfile(id).arms) expect(arm.joints, `${id} ${arm.name}`).toHaveLength(arm.dof);
    }
    const raw = base();
    raw.arms[0].joints.push('joint6');
    const problems = problemsOf(raw);
    expect(problems).toEqual([{ path: 'arms[0].joints', message: "lists 7 joint names for dof 6: list exactly the arm's 6 joints, and put a gripper joint in gripper.joint" }]);
    raw.arms[0].dof = 7;
    expect(() => parseProfile(JSON.stringify(raw), 'robots/aloha-agilex.json')).not.toThrow();
  });

  it('refuses ROS 2 type spellings in a ROS 1 profile, naming the field and the fix', () => {
    const raw = base();
    raw.cameras[0].type = 'sensor_msgs/msg/Image';
    raw.ros.feedback.type = 'std_msgs/msg/String';
    const problems = problemsOf(raw);
    expect(problems.map((p) => p.path)).toEqual(['cameras[0].type', 'ros.feedback.type']);
    expect(problems[0]!.message).toContain('"sensor_msgs/msg/Image" is the ROS 2 spelling, but ros.rosVersion is 1');
    expect(problems[0]!.message).toContain('Write "sensor_msgs/Image", or set ros.rosVersion to 2');
    // The same types are right on a ROS 2 robot.
    const ros2 = JSON.parse(JSON.stringify(raw).replaceAll('"sensor_msgs/', '"sensor_msgs/msg/').replaceAll('"std_msgs/String"', '"std_msgs/msg/String"').replaceAll('msg/msg/', 'msg/'));
    ros2.ros.rosVersion = 2;
    expect(() => parseProfile(JSON.stringify(ros2), 'robots/aloha-agilex.json')).not.toThrow();
  });

  it('keeps the exported JSON Schemas in step with the zod schemas', () => {
    for (const doc of schemaDocuments()) {
      const onDisk = JSON.parse(readFileSync(join(PACKAGE_ROOT, doc.file), 'utf8'));
      expect(onDisk, `${doc.file} is stale: run npm run export-schemas`).toEqual(JSON.parse(JSON.stringify(doc.schema)));
    }
  });
});
