import { readFileSync } from 'node:fs';
import { UsageError } from '../../errors/usage-error.js';
import { isLoopbackHost } from '../../service/auth.js';
import { buildService, DEFAULT_BODY_LIMIT } from '../../service/server.js';
import { intFlag, modelFlags, modelFlagsHelp, parseFlags } from '../args.js';
import type { Command } from '../command.js';
import { EXIT } from '../exit-codes.js';

const help = `keystep serve [--host 127.0.0.1] [--port 8080] [--runs runs] [--model models] [--devices cpu] [--worker ws://host:port] [--token-file <file>]

Serves planning and runs over HTTP and WebSocket: POST /v1/plans plans a task from one picture with
the embedded model; POST /v1/runs starts a run against a robot behind rosbridge (the same run as
keystep run: same log, same --resume), GET /v1/runs lists every run under --runs, and
/v1/runs/{id}/events streams a run's events.jsonl over a WebSocket. /openapi.json describes every
route; /healthz and /readyz are the probes. Runs until Ctrl-C, which aborts the runs still going.

Options:
  --host <addr>         address to listen on (default 127.0.0.1). Any address other machines can
                        reach needs --token-file
  --port <n>            port (default 8080; 0 picks a free one, printed at start)
  --runs <dir>          where runs are logged and found (default runs)
${modelFlagsHelp(24)}
  --worker <url>        plan through a model worker (docs/worker-protocol.md, e.g. models/reference_worker.py)
                        instead of the embedded model, which is then not loaded
  --token-file <file>   a file holding the bearer token (16+ characters) every request but the
                        probes must carry: Authorization: Bearer <token>
  --body-limit <MiB>    largest request body (default ${DEFAULT_BODY_LIMIT / 1024 / 1024})
  --log                 log every request (JSON lines on stdout)
  --openapi             print the OpenAPI document and exit
  -h, --help            this text

Routes (/openapi.json describes each; a test holds this list to the server's route table):
  GET  /healthz, GET /readyz                  liveness; readiness (model, device queues, runs)
  POST /v1/plans                              a plan from one picture (JSON with base64, or multipart)
  GET  /v1/plans/stream                       WebSocket: the same plan, step by step, pass by pass
  POST /v1/runs                               start a run against a robot behind rosbridge
  GET  /v1/runs                               every run under --runs
  GET  /v1/runs/{id}                          a run's state, report and steps so far
  POST /v1/runs/{id}/abort                    cancel the step in flight; the run ends as aborted
  POST /v1/runs/{id}/pause                    send nothing new until resumed
  POST /v1/runs/{id}/resume                   go on after a pause, or continue an interrupted run
  POST /v1/runs/{id}/approve                  let the plan or step the run waits for go to the robot
  POST /v1/runs/{id}/reject                   refuse it: the run replans with the note, or ends
  GET  /v1/runs/{id}/events.jsonl             the run's log as written
  GET  /v1/runs/{id}/events                   WebSocket: the log's records, live (?since=<seq>)
  GET  /v1/runs/{id}/drawing                  WebSocket: the plan the run is drawing, pass by pass
  GET  /v1/runs/{id}/files/{name}             a plan version, keyframe or observation the log names
  POST /v1/rollouts                           start a rollout against a keystep sim the service starts
  GET  /v1/rollouts                           every rollout under --runs, with its state and result
  GET  /v1/rollouts/{id}                      a rollout's progress and, once finished, its result
  GET  /v1/rollouts/{id}/episodes/{episode}/sheet.png  an episode's contact sheet
  GET  /openapi.json                          the OpenAPI document
  GET  /                                      the web view (redirects to /ui/)

Exit codes: 0 stopped by Ctrl-C/SIGTERM, 2 bad flags, 3 unreadable token file, 4 port taken.`;

export const serveCommand: Command = {
  help,
  async run(argv, io) {
    const { values } = parseFlags('serve', argv, {
      host: { type: 'string' },
      port: { type: 'string' },
      runs: { type: 'string' },
      model: { type: 'string' },
      devices: { type: 'string' },
      'token-file': { type: 'string' },
      worker: { type: 'string' },
      'body-limit': { type: 'string' },
      log: { type: 'boolean' },
      openapi: { type: 'boolean' },
    });
    if (values.help) {
      io.out(help);
      return EXIT.ok;
    }
    if (values.openapi) {
      const app = await buildService({ runsDir: values.runs ?? 'runs', model: null });
      await app.ready();
      io.out(JSON.stringify(app.swagger(), null, 2));
      await app.close();
      return EXIT.ok;
    }
    const host = values.host ?? '127.0.0.1';
    const port = intFlag('serve', 'port', values.port, 8080, { min: 0, max: 65535 });
    const bodyLimit = intFlag('serve', 'body-limit', values['body-limit'], DEFAULT_BODY_LIMIT / 1024 / 1024, { min: 1, max: 256 }) * 1024 * 1024;
    const worker = values.worker;
    if (worker !== undefined && !/^wss?:\/\/[^\s]+$/.test(worker)) throw new UsageError(`--worker ${worker}: a ws:// or wss:// URL of a model worker, e.g. ws://gpu-host:8765`, 'serve');
    const source = worker !== undefined ? null : modelFlags('serve', values);
    const tokenFile = values['token-file'];
    if (tokenFile === undefined && !isLoopbackHost(host)) {
      throw new UsageError(`--host ${host} can be reached from other machines: give --token-file <file> with a bearer token, or keep the default --host 127.0.0.1`, 'serve');
    }
    let token: string | undefined;
    if (tokenFile !== undefined) {
      try {
        token = readFileSync(tokenFile, 'utf8').trim();
      } catch (cause) {
        io.err(`keystep serve: --token-file: cannot read ${tokenFile} (${(cause as Error).message})`);
        return EXIT.config;
      }
      if (token.length < 16 || /\s/.test(token)) {
        io.err(`keystep serve: --token-file: ${tokenFile} must hold one token of 16 or more characters without spaces (e.g. openssl rand -hex 32 > ${tokenFile})`);
        return EXIT.config;
      }
    }
    const app = await buildService({ runsDir: values.runs ?? 'runs', model: source, ...(worker !== undefined ? { worker } : {}), bodyLimit, logger: values.log === true, ...(token !== undefined ? { token } : {}) });
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    try {
      const address = await app.listen({ host, port });
      io.out(`keystep serve: listening on ${address}${token === undefined ? '' : ' (bearer token required)'}; runs in ${values.runs ?? 'runs'}`);
      await stopped;
      io.err('keystep serve: stopping: aborting the runs still going...');
    } finally {
      await app.close();
    }
    return EXIT.ok;
  },
};
