import { DEFAULT_LOCK_MS, EpisodeWorker } from '../../queue/episode-worker.js';
import { redisOptions } from '../../queue/redis-url.js';
import { intFlag, modelFlags, modelFlagsHelp, parseFlags, requiredFlag } from '../args.js';
import type { Command } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { interruptSignal } from '../interrupt.js';

const help = `keystep worker --queue redis://host:6379 [options]

Takes episodes of queued rollouts (keystep rollout --queue) from Redis and runs each exactly as a local
rollout runs one: a sim robot behind a real rosbridge socket, the executor over roslib, the rollout's
planner backend. Returns each episode's summary and its folder (run log, pictures, sheet) through the
queue; the rollout writes them. Start as many workers, on as many machines, as you like; they need the
same keystep version. Runs until Ctrl-C or SIGTERM, which lets the episodes in flight finish.

Options:
  --queue <url>       the Redis the rollouts use: redis://[user:password@]host[:port][/db]
  --concurrency <n>   episodes at once in this process, each with its own sim robot (default 1;
                      about one per free core for oracle episodes)
${modelFlagsHelp(22)}
  --lock-ms <ms>      an episode whose worker stopped answering this long (killed, machine gone) goes
                      to another worker (default ${DEFAULT_LOCK_MS})
  -h, --help          this text

Redis restarts are waited out: the worker reconnects and goes on. Test hook: KEYSTEP_POISON_EPISODES=1,4
makes this worker's episodes 1 and 4 of every rollout crash.
Exit codes: 0 stopped, 2 bad flags, 130 Ctrl-C.`;

export const workerCommand: Command = {
  help,
  async run(argv, io) {
    const { values } = parseFlags('worker', argv, {
      queue: { type: 'string' },
      concurrency: { type: 'string' },
      model: { type: 'string' },
      devices: { type: 'string' },
      'lock-ms': { type: 'string' },
    });
    if (values.help) {
      io.out(help);
      return EXIT.ok;
    }
    const url = requiredFlag('worker', 'queue', values.queue, 'redis://127.0.0.1:6379');
    const connection = redisOptions(url, 'worker');
    const concurrency = intFlag('worker', 'concurrency', values.concurrency, 1, { min: 1, max: 256 });
    const lockMs = intFlag('worker', 'lock-ms', values['lock-ms'], DEFAULT_LOCK_MS, { min: 500, max: 3_600_000 });
    const poisoned = new Set((process.env.KEYSTEP_POISON_EPISODES ?? '').split(',').filter((s) => s.trim() !== '').map(Number));
    let lastError = '';
    const worker = new EpisodeWorker({
      connection,
      concurrency,
      model: modelFlags('worker', values),
      lockMs,
      ...(poisoned.size > 0 ? { poison: (job) => poisoned.has(job.index) } : {}),
      onEvent: (e) => {
        switch (e.kind) {
          case 'started':
            io.err(`${e.rollout} episode ${e.episode}: started (attempt ${e.attempt})`);
            break;
          case 'finished':
            io.err(`${e.rollout} episode ${e.episode}: ${e.success ? 'success' : 'no success'}`);
            break;
          case 'failed':
            io.err(`${e.rollout} episode ${e.episode}: crashed: ${e.error}`);
            break;
          case 'error':
            // A Redis outage repeats the same error every reconnect attempt: say it once.
            if (e.error !== lastError) io.err(`queue: ${e.error} (reconnecting)`);
            lastError = e.error;
            break;
        }
      },
    });
    const interrupt = interruptSignal(() => io.err('stopping: the episodes in flight finish first (Ctrl-C again to leave them to other workers)...'));
    try {
      const stopped = new Promise<void>((resolve) => interrupt.signal.addEventListener('abort', () => resolve(), { once: true }));
      await Promise.race([worker.worker.waitUntilReady(), stopped]);
      if (!interrupt.signal.aborted) io.err(`worker: taking episodes from ${url.replace(/\/\/[^@/]*@/, '//')} (concurrency ${concurrency}); Ctrl-C to stop`);
      await stopped;
      await worker.close();
      return EXIT.interrupted;
    } finally {
      interrupt.dispose();
    }
  },
};
