import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free loopback port: the OS picks one, we close it and hand it to redis-server. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let reply = '';
    socket.setTimeout(500, () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply.startsWith('+PONG'));
      }
    });
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}

/**
 * A redis-server of the test's own on a free loopback port, never one it did not start. `persist`
 * keeps the data in an append-only file, so that `restart()` finds the queue where it was (as a
 * production Redis with AOF would); otherwise nothing touches the disk.
 */
export class TestRedis {
  private process: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly persist: boolean,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(options: { persist?: boolean } = {}): Promise<TestRedis> {
    const redis = new TestRedis(await freePort(), mkdtempSync(join(tmpdir(), 'keystep-redis-')), options.persist === true);
    await redis.spawn();
    return redis;
  }

  private async spawn(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--dir', this.dir, '--maxmemory-policy', 'noeviction'];
    args.push('--appendonly', this.persist ? 'yes' : 'no');
    if (this.persist) args.push('--appendfsync', 'always');
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.process = child;
    let failed: Error | undefined;
    child.once('error', (e) => (failed = e));
    const deadline = Date.now() + 10_000;
    while (!(await ping(this.port))) {
      if (failed) throw new Error(`redis-server could not start (${failed.message}): the queue tests need it on PATH; apt-get install -y redis-server (.ci/run does)`);
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not answer PING on port ${this.port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }

  /** Stops the server and starts it again on the same port, after `downMs`. */
  async restart(downMs = 0): Promise<void> {
    await this.kill();
    await new Promise((r) => setTimeout(r, downMs));
    await this.spawn();
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
