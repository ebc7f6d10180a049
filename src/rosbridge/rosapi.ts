import { nowStamp } from './message-types.js';
import type { LocalService, RosbridgeServer } from './server.js';

/**
 * The few rosapi services a client needs to check a robot's ROS graph before it moves anything
 * (`keystep doctor`), answered from this server's own topic graph with rosapi's request and response
 * fields. On a real robot, rosbridge_websocket.launch starts the rosapi node beside the bridge.
 *
 * Node names: every client of a real bridge reaches ROS through the one rosbridge node, so clients
 * are `/rosbridge_websocket` here too; this process's own publishers and handlers are `localNode`.
 */
export function serveRosapi(server: RosbridgeServer, options: { localNode: string; rosVersion: 1 | 2 }): LocalService[] {
  const node = (id: string) => (id.startsWith('client:') ? '/rosbridge_websocket' : options.localNode);
  const nodes = (ids: readonly string[] | undefined) => [...new Set((ids ?? []).map(node))].sort();
  const topicArg = (args: unknown) => String((args as { topic?: unknown })?.topic ?? '');
  const srv = (name: string) => (options.rosVersion === 1 ? `rosapi/${name}` : `rosapi_msgs/srv/${name}`);
  return [
    server.advertiseService(ROSAPI.topics, srv('Topics'), () => {
      const topics = server.topics().sort((a, b) => a.name.localeCompare(b.name));
      return { topics: topics.map((t) => t.name), types: topics.map((t) => t.type) };
    }),
    server.advertiseService(ROSAPI.topicType, srv('TopicType'), (args) => ({ type: server.topicInfo(topicArg(args))?.type ?? '' })),
    server.advertiseService(ROSAPI.publishers, srv('Publishers'), (args) => ({ publishers: nodes(server.topicParticipants(topicArg(args))?.publishers) })),
    server.advertiseService(ROSAPI.subscribers, srv('Subscribers'), (args) => ({ subscribers: nodes(server.topicParticipants(topicArg(args))?.subscribers) })),
    server.advertiseService(ROSAPI.getTime, srv('GetTime'), () => {
      const t = nowStamp();
      return { time: options.rosVersion === 1 ? { secs: t.sec, nsecs: t.nanosec } : t };
    }),
  ];
}

/** The rosapi service names keystep uses. */
export const ROSAPI = {
  topics: '/rosapi/topics',
  topicType: '/rosapi/topic_type',
  publishers: '/rosapi/publishers',
  subscribers: '/rosapi/subscribers',
  getTime: '/rosapi/get_time',
} as const;
