import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** The web view's test rig: Debian's Chromium, and `keystep serve` as its own process. */

const ROOT = resolve(import.meta.dirname, '../..');

/** Debian's chromium, headless, with the flags this closed network needs; nothing is downloaded. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    // launch() gives the browser a fresh, empty user-data-dir of its own (it refuses one in args).
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * `keystep serve` in a child process, as an operator starts it, so a test can kill it the way a
 * crash does (SIGKILL: no abort, no `finished` record) and start it again on the same port.
 */
export class ServeProcess {
  private child: ChildProcess | null = null;
  readonly base: string;
  /** Everything the service printed, on stdout and stderr, since it was first started. */
  output = '';

  constructor(
    readonly port: number,
    readonly runsDir: string,
    /** More flags for serve, e.g. ['--token-file', file]. */
    readonly flags: readonly string[] = [],
  ) {
    this.base = `http://127.0.0.1:${port}`;
  }

  /**
   * Starts `keystep serve --port <port> --runs <runsDir> ...flags` from the compiled CLI (`npm test`
   * builds it first, as for every keystep process a test starts) and waits until it listens.
   */
  async start(): Promise<void> {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'keystep.js'), 'serve', '--port', String(this.port), '--runs', this.runsDir, ...this.flags], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const from = this.output.length;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`keystep serve did not start within 30 s:\n${this.output.slice(from)}`)), 30_000);
      const onData = (chunk: Buffer) => {
        this.output += String(chunk);
        if (this.output.slice(from).includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`keystep serve exited (${code}) before it listened:\n${this.output.slice(from)}`));
      });
    });
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
    this.child = null;
  }

  async request(method: string, path: string, json?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: { ...headers, ...(json !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
    });
    const text = await response.text();
    return { status: response.status, json: text === '' ? null : JSON.parse(text) };
  }
}

export const newRunsDir = () => mkdtempSync(join(tmpdir(), 'keystep-web-runs-'));
