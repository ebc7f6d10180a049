/**
 * keystep's rosbridge v2 server: the robot side of the bridge that roslib clients talk to.
 *
 *   const { server, url } = await listen({ port: 9090 });
 *   const camera = server.advertise<CompressedImageInput>('/camera/compressed', 'sensor_msgs/msg/CompressedImage');
 *   server.subscribe<StdString>('/step', 'std_msgs/String', (msg) => ...);
 *   server.advertiseService('/reset', 'std_srvs/Trigger', async () => ({ success: true, message: '' }));
 */
export { listen, adaptWebSocket, type ListenOptions, type RosbridgeListener } from './listen.js';
export {
  RosbridgeServer,
  type ClientInfo,
  type LocalService,
  type LocalSubscription,
  type MessageMeta,
  type Publisher,
  type RosbridgeServerEvents,
  type RosbridgeServerOptions,
  type RosbridgeStats,
  type StatusEvent,
} from './server.js';
export type { RosbridgeSocket, RosbridgeSocketEvents } from './client.js';
export type { ServiceCallMeta, ServiceInfo } from './services.js';
export type { TopicInfo } from './topics.js';
export {
  parseTypeName,
  RosMessage,
  sameType,
  nowStamp,
  type RosTypeName,
  type RosTime,
  type Header,
  type StdString,
  type Image,
  type ImageInput,
  type CompressedImage,
  type CompressedImageInput,
  type JointState,
  type JointStateInput,
} from './message-types.js';
export {
  RosbridgeError,
  InvalidArgumentError,
  InvalidTypeStringError,
  InvalidNameError,
  TypeConflictError,
  TopicNotEstablishedError,
  MessageFieldError,
  ServiceNotFoundError,
  ServiceFailedError,
  ProtocolStateError,
} from './errors.js';
export { OPS, type Op, type IncomingOp, type OutgoingOp, type StatusLevelSetting } from './protocol.js';
export { serveRosapi, ROSAPI } from './rosapi.js';
