import { KEYFRAME_FRAME_PREFIX, LeaseHolder, LeaseRequest, leaseTopics, StepCommand, stepId, type LeaseState, type RobotProfile, type SceneId, type StepFeedback } from '../src/schema/index.js';
import { CompressedImageMsg, compressedImage, rawImage, stampNow, StringMsg } from '../src/ros/messages.js';
import { listen, serveRosapi, type RosbridgeServer } from '../src/rosbridge/index.js';
import { homePosition, jointPositions } from '../src/scenes/arms.js';
import { renderCamera } from './render.js';
import { SimWorld } from './world.js';

export interface SimRobotOptions {
  profile: RobotProfile;
  scene: SceneId;
  task: string;
  seed: number;
  missRate: number;
  port?: number;
  host?: string;
  /** Camera frames per second on each camera topic (rendered only while someone subscribes). */
  cameraHz?: number;
  jointHz?: number;
  /** How long one step takes to execute, simulated. */
  stepMs?: number;
  /** How long a command waits for its keyframe before it is rejected. */
  keyframeWaitMs?: number;
  /**
   * Answer protocol errors as the real rosbridge_server does: no `status` frames, only a log line
   * here. A client tested this way sees what it will see on a robot. (On a ROS 1 profile, ROS 2 type
   * spellings are refused either way, as the real ROS 1 server refuses them.)
   */
  realErrors?: boolean;
  log?: (line: string) => void;
}

/** Services only the simulator offers: rollouts reset episodes and the oracle backend plans through them. */
export const SIM_SERVICES = {
  reset: { name: '/keystep/sim/reset', type: 'keystep/SimReset' },
  oracle: { name: '/keystep/sim/oracle', type: 'keystep/OraclePlan' },
  state: { name: '/keystep/sim/state', type: 'keystep/SimState' },
} as const;

type ExecuteCommand = Extract<StepCommand, { kind: 'execute' }>;

/**
 * The simulated robot on the other end of a rosbridge socket: it serves the profile's ROS interface
 * (camera frames, joint states, step commands and keyframes in, feedback out) over the sim world.
 */
export class SimRobot {
  readonly world: SimWorld;
  private readonly keyframes = new Map<string, Uint8Array>();
  private readonly pending = new Map<string, { command: ExecuteCommand; timer: NodeJS.Timeout }>();
  private readonly timers: NodeJS.Timeout[] = [];
  private stateVersion = 0;
  private frameCache = new Map<string, { version: number; msg: Promise<unknown> }>();
  badCommands = 0;

  private constructor(
    readonly server: RosbridgeServer,
    readonly url: string,
    readonly options: SimRobotOptions,
  ) {
    this.world = new SimWorld(options);
  }

  static async start(options: SimRobotOptions): Promise<SimRobot> {
    const { server, port } = await listen({
      port: options.port ?? 9090,
      host: options.host ?? '127.0.0.1',
      serverOptions: { rosVersion: options.profile.ros.rosVersion, statusMessages: options.realErrors !== true },
    });
    const robot = new SimRobot(server, `ws://${options.host ?? '127.0.0.1'}:${port}`, options);
    robot.wire();
    return robot;
  }

  private get profile(): RobotProfile {
    return this.options.profile;
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  private wire(): void {
    const { profile } = this;
    const ros = profile.ros;
    const feedback = this.server.advertise<{ data: string }>(ros.feedback.name, ros.feedback.type);
    const publishFeedback = (f: StepFeedback) => feedback.publish({ data: JSON.stringify(f) });

    this.server.subscribe<unknown>(ros.keyframe.name, ros.keyframe.type, (msg) => {
      const parsed = CompressedImageMsg.safeParse(msg);
      const frameId = parsed.success ? (parsed.data.header?.frame_id ?? '') : '';
      if (!parsed.success || !frameId.startsWith(KEYFRAME_FRAME_PREFIX)) {
        this.badCommands++;
        this.log(`ignored a keyframe without a "${KEYFRAME_FRAME_PREFIX}<step id>" frame_id`);
        return;
      }
      const id = frameId.slice(KEYFRAME_FRAME_PREFIX.length);
      this.keyframes.set(id, parsed.data.data);
      // Keep memory bounded: a robot needs the keyframes of the steps in flight, not of a whole run.
      if (this.keyframes.size > 64) this.keyframes.delete(this.keyframes.keys().next().value!);
      const waiting = this.pending.get(id);
      if (waiting) {
        clearTimeout(waiting.timer);
        this.pending.delete(id);
        void this.execute(waiting.command, publishFeedback);
      }
    });

    this.server.subscribe<unknown>(ros.stepCommand.name, ros.stepCommand.type, (msg) => {
      const command = this.parseCommand(msg, publishFeedback);
      if (!command) return;
      const id = stepId(command.runId, command.stepIndex, command.attempt);
      switch (command.kind) {
        case 'cancel': {
          const waiting = this.pending.get(id);
          if (waiting) {
            clearTimeout(waiting.timer);
            this.pending.delete(id);
          }
          const stopped = this.world.cancel(id);
          if (stopped) publishFeedback({ runId: command.runId, stepIndex: command.stepIndex, attempt: command.attempt, status: 'cancelled', reason: command.reason ?? 'cancelled', stamp: Date.now() });
          this.log(`cancel ${id}${stopped ? '' : ' (already ran; nothing to stop)'}`);
          return;
        }
        case 'execute': {
          if (this.keyframes.has(id) || this.world.has(id)) {
            void this.execute(command, publishFeedback);
            return;
          }
          if (this.pending.has(id)) return;
          const timer = setTimeout(() => {
            this.pending.delete(id);
            publishFeedback({ runId: command.runId, stepIndex: command.stepIndex, attempt: command.attempt, status: 'rejected', reason: `no keyframe arrived on ${ros.keyframe.name} for step ${id} within ${this.options.keyframeWaitMs ?? 3000} ms`, stamp: Date.now() });
          }, this.options.keyframeWaitMs ?? 3000);
          this.pending.set(id, { command, timer });
          return;
        }
      }
    });

    this.wireCameras();
    this.wireJoints();
    this.wireServices();
    this.wireLease();
    serveRosapi(this.server, { localNode: '/keystep_sim', rosVersion: ros.rosVersion });
    // What the real server would only log: refused type strings, wrong types, malformed frames.
    this.server.on('status', ({ client, status }) => {
      if (status.level !== 'info') this.log(`rosbridge ${status.level} for client ${client.name}: ${status.msg}`);
    });
  }

  /** The robot side of the lease (schema/lease.ts): one executor at a time. */
  readonly lease = new LeaseHolder();

  private wireLease(): void {
    const topics = leaseTopics(this.profile.ros);
    const state = this.server.advertise<{ data: string }>(topics.state.name, topics.state.type);
    this.server.subscribe<unknown>(topics.request.name, topics.request.type, (msg) => {
      const outer = StringMsg.safeParse(msg);
      let parsed: ReturnType<typeof LeaseRequest.safeParse> | undefined;
      try {
        parsed = outer.success ? LeaseRequest.safeParse(JSON.parse(outer.data.data)) : undefined;
      } catch {
        parsed = undefined;
      }
      if (!parsed?.success) {
        this.log(`ignored a malformed lease request on ${topics.request.name}`);
        return;
      }
      const before = this.lease.current(Date.now());
      const answer: LeaseState = this.lease.handle(parsed.data, Date.now());
      if (answer.holder !== before) this.log(answer.holder ? `lease: held by run ${answer.holder}` : `lease: free (released by run ${parsed.data.runId})`);
      else if (!answer.answer?.granted && parsed.data.kind === 'acquire') this.log(`lease: refused run ${parsed.data.runId}, held by run ${answer.holder}`);
      state.publish({ data: JSON.stringify(answer) });
    });
  }

  private parseCommand(msg: unknown, publishFeedback: (f: StepFeedback) => void): StepCommand | undefined {
    const outer = StringMsg.safeParse(msg);
    let json: unknown;
    try {
      json = outer.success ? JSON.parse(outer.data.data) : undefined;
    } catch {
      json = undefined;
    }
    const parsed = StepCommand.safeParse(json);
    if (parsed.success) return parsed.data;
    this.badCommands++;
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    this.log(`rejected a step command: ${why}`);
    // Answer when the ids can be read, so the sender is not left waiting for a timeout.
    const ids = json as { runId?: unknown; stepIndex?: unknown; attempt?: unknown } | undefined;
    if (ids && typeof ids.runId === 'string' && Number.isInteger(ids.stepIndex) && Number.isInteger(ids.attempt)) {
      publishFeedback({ runId: ids.runId, stepIndex: ids.stepIndex as number, attempt: ids.attempt as number, status: 'rejected', reason: `malformed step command: ${why}`, stamp: Date.now() });
    }
    return undefined;
  }

  private async execute(command: ExecuteCommand, publishFeedback: (f: StepFeedback) => void): Promise<void> {
    const id = stepId(command.runId, command.stepIndex, command.attempt);
    const duplicate = this.world.has(id);
    if (!duplicate) {
      publishFeedback({ runId: command.runId, stepIndex: command.stepIndex, attempt: command.attempt, status: 'accepted', stamp: Date.now() });
      if ((this.options.stepMs ?? 0) > 0) await new Promise((r) => setTimeout(r, this.options.stepMs));
    }
    const result = await this.world.execute(command, this.keyframes.get(id) ?? new Uint8Array());
    if (!duplicate) {
      this.stateVersion++;
      this.log(`step ${id} "${command.instruction}": ${result.status}${result.reason ? ` (${result.reason})` : ''}`);
      await this.publishFrames();
    }
    publishFeedback(result);
  }

  private cameraPublishers: { camera: RobotProfile['cameras'][number]; publish: () => Promise<void> }[] = [];

  private frame(camera: RobotProfile['cameras'][number]): Promise<unknown> {
    const cached = this.frameCache.get(camera.name);
    if (cached && cached.version === this.stateVersion) return cached.msg;
    const msg: Promise<unknown> = renderCamera(this.world.scene, this.world.state, camera).then((png): Promise<unknown> =>
      camera.type.endsWith('CompressedImage') ? Promise.resolve(compressedImage(png, camera.name, this.profile.ros.rosVersion)) : rawImage(png, camera.name, this.profile.ros.rosVersion),
    );
    this.frameCache.set(camera.name, { version: this.stateVersion, msg });
    return msg;
  }

  private wireCameras(): void {
    for (const camera of this.profile.cameras) {
      const pub = this.server.advertise<unknown>(camera.topic, camera.type);
      const publish = async () => {
        // Rendering and encoding are the costly part: skip them while nobody watches.
        if (pub.subscriberCount() === 0) return;
        const version = this.stateVersion;
        const msg = await this.frame(camera);
        // The scene changed (a step finished, an episode reset) while this frame rendered: it shows a
        // state that no longer exists and would be stamped after the change, so a planner waiting for
        // a frame newer than the change would take it. Drop it; the change publishes its own frame.
        if (version !== this.stateVersion) return;
        pub.publish(msg);
      };
      this.cameraPublishers.push({ camera, publish });
      const hz = this.options.cameraHz ?? 2;
      if (hz > 0) this.timers.push(setInterval(() => void publish().catch((e) => this.log(`camera ${camera.name}: ${(e as Error).message}`)), 1000 / hz));
    }
  }

  /** Sends every camera's frame now, so a subscriber sees a step's outcome without waiting a tick. */
  private async publishFrames(): Promise<void> {
    await Promise.all(this.cameraPublishers.map((c) => c.publish().catch(() => undefined)));
  }

  private wireJoints(): void {
    const publishers = this.profile.arms.map((arm) => ({ arm, pub: this.server.advertise<unknown>(arm.jointStates.name, arm.jointStates.type) }));
    const tick = () => {
      for (const { arm, pub } of publishers) {
        const state = this.world.state.arms.find((a) => a.name === arm.name);
        if (!state) continue;
        const base = homePosition(arm.name, this.profile.arms.length);
        // The arm's joints, then its gripper's, as a driver publishes them.
        const gripper = arm.gripper.joint;
        const positions = jointPositions(state, arm.joints.length + 1, [base[0], base[1] - 0.15]);
        pub.publish({
          header: { frame_id: '', stamp: stampNow(this.profile.ros.rosVersion) },
          name: gripper ? [...arm.joints, gripper] : arm.joints,
          position: gripper ? positions : positions.slice(0, -1),
          velocity: [],
          effort: [],
        });
      }
    };
    const hz = this.options.jointHz ?? 10;
    if (hz > 0) this.timers.push(setInterval(tick, 1000 / hz));
  }

  private wireServices(): void {
    this.server.advertiseService(SIM_SERVICES.reset.name, SIM_SERVICES.reset.type, (args: { seed?: number; task?: string }) => {
      const seed = Number.isInteger(args?.seed) ? (args.seed as number) : this.world.options.seed;
      this.reset(seed, typeof args?.task === 'string' ? args.task : undefined);
      return { seed, task: this.world.options.task };
    });
    this.server.advertiseService(SIM_SERVICES.oracle.name, SIM_SERVICES.oracle.type, async (args: { task?: unknown }) => {
      const camera = this.profile.cameras.find((c) => c.name === this.profile.keyframeCamera)!;
      const steps = this.world.oracle(typeof args?.task === 'string' ? args.task : undefined);
      return {
        steps: await Promise.all(
          steps.map(async (s) => ({ instruction: s.instruction, action: s.action, keyframe: Buffer.from(await renderCamera(this.world.scene, s.next, camera)).toString('base64') })),
        ),
      };
    });
    this.server.advertiseService(SIM_SERVICES.state.name, SIM_SERVICES.state.type, () => ({
      goalReached: this.world.isGoal(),
      seed: this.world.options.seed,
      task: this.world.options.task,
      history: this.world.history,
      state: this.world.state,
    }));
  }

  /**
   * A fresh seeded episode. Goes through here, not world.reset, so cached camera frames and pending
   * keyframes of the old episode are dropped: a planner must never see the previous scene.
   */
  reset(seed: number, task?: string): void {
    this.world.reset(seed, task);
    this.keyframes.clear();
    this.pending.forEach((p) => clearTimeout(p.timer));
    this.pending.clear();
    this.stateVersion++;
    this.frameCache.clear();
    void this.publishFrames();
  }

  async close(): Promise<void> {
    this.timers.forEach((t) => clearInterval(t));
    this.pending.forEach((p) => clearTimeout(p.timer));
    await this.server.close();
  }
}
