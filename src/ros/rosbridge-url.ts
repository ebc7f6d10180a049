/**
 * What is wrong with a --rosbridge value, before anything tries to open it; undefined when it is a
 * ws:// or wss:// URL with a host and a port a socket can use.
 */
export function rosbridgeUrlProblem(url: string): string | undefined {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme !== 'ws' && scheme !== 'wss') {
    const rest = scheme ? url.slice(scheme.length + 3) : url;
    return `must be a ws:// or wss:// URL (rosbridge speaks WebSocket), got "${url}"; e.g. ws://${rest || '127.0.0.1:9090'}`;
  }
  if (/\s/.test(url)) return `must not contain spaces, got "${url}"`;
  const authority = url.slice(scheme.length + 3).split(/[/?#]/)[0] ?? '';
  const port = /:(\d*)$/.exec(authority.replace(/^\[[^\]]*\]/, ''))?.[1];
  if (port !== undefined) {
    const n = Number(port);
    if (port === '' || !Number.isInteger(n) || n < 1 || n > 65535) {
      return `has port "${port}", which no socket can use: a port is 1 to 65535 (rosbridge's default is 9090), got "${url}"`;
    }
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `is not a valid URL, got "${url}"; write ws://host:port`;
  }
  if (parsed.hostname === '') return `has no host, got "${url}"; write ws://host:port`;
  return undefined;
}
