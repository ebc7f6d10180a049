/** A server that could not listen where it was told: names the address, why, and what to give instead. */
export class ListenError extends Error {
  override readonly name = 'ListenError' as const;
  constructor(
    message: string,
    readonly host: string,
    readonly port: number,
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isListenError(e: unknown): e is ListenError {
  return e instanceof ListenError;
}

/** The socket error of a failed listen() as a ListenError whose message says what to do. */
export function listenError(host: string, port: number, cause: unknown): ListenError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const where = `${host}:${port}`;
  let message: string;
  switch (code) {
    case 'EADDRINUSE':
      message = `cannot listen on ${where}: the port is taken by another program; pick another with --port (0 picks a free one)`;
      break;
    case 'EADDRNOTAVAIL':
      message = `cannot listen on ${where}: ${host} is not an address of this machine; give --host 127.0.0.1 (this machine only), 0.0.0.0 (every interface) or one of this machine's addresses`;
      break;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      message = `cannot listen on ${where}: "${host}" is not a host name or address this machine can resolve; give --host an IP address of this machine, e.g. 127.0.0.1 or 0.0.0.0`;
      break;
    case 'EACCES':
      message = `cannot listen on ${where}: not allowed (ports below 1024 need privileges); pick another with --port`;
      break;
    default:
      message = `cannot listen on ${where}: ${(cause as Error | undefined)?.message ?? String(cause)}`;
  }
  return new ListenError(message, host, port, code, { cause });
}
