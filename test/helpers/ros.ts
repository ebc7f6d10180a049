import { Ros, Topic } from 'roslib';

/** A real roslib client connected to `url`. */
export async function connectRos(url: string): Promise<Ros> {
  const ros = new Ros({});
  const up = new Promise<void>((resolve, reject) => {
    ros.once('connection', () => resolve());
    ros.once('error', (e) => reject(new Error(`roslib could not connect to ${url}: ${String(e)}`)));
  });
  await ros.connect(url);
  await up;
  return ros;
}

/** The next message on a topic (subscribes, resolves, unsubscribes). */
export function nextMessage<T>(ros: Ros, name: string, messageType: string, options: { compression?: string; timeoutMs?: number; where?: (m: T) => boolean } = {}): Promise<T> {
  const topic = new Topic<T>({ ros, name, messageType, ...(options.compression ? { compression: options.compression } : {}) });
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      topic.unsubscribe();
      reject(new Error(`no message on ${name} within ${options.timeoutMs ?? 5000} ms`));
    }, options.timeoutMs ?? 5000);
    topic.subscribe((m) => {
      if (options.where && !options.where(m)) return;
      clearTimeout(timer);
      topic.unsubscribe();
      resolve(m);
    });
  });
}

/** Polls until `check` holds (or throws after `timeoutMs`). */
export async function until(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
