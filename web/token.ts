/**
 * The service's bearer token in the browser, for a service started with --token-file. Given once,
 * as `?token=` on the page's address or in the page's field, it is kept in a cookie without an
 * expiry date (gone when the browser closes) and taken out of the address bar, so it is not
 * bookmarked or shared by copying the link. fetch sends it as a header; images and WebSockets,
 * which cannot send headers, carry the cookie, which the service admits for reads only
 * (src/service/auth.ts).
 */

const COOKIE = 'keystep_token';

/** Reads `?token=` once, at start, and removes it from the address bar. */
export function adoptTokenFromAddress(): void {
  const url = new URL(location.href);
  const given = url.searchParams.get('token');
  if (given === null) return;
  url.searchParams.delete('token');
  history.replaceState(history.state, '', url.pathname + url.search + url.hash);
  setToken(given);
}

export function setToken(token: string | null): void {
  const t = token?.trim() ?? '';
  document.cookie = t === '' ? `${COOKIE}=; path=/; max-age=0; SameSite=Strict` : `${COOKIE}=${encodeURIComponent(t)}; path=/; SameSite=Strict`;
}

function token(): string | null {
  for (const part of document.cookie.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE && value.length > 0) return decodeURIComponent(value.join('='));
  }
  return null;
}

export const hasToken = (): boolean => token() !== null;

/** The header fetch sends: none without a token. */
export function authHeaders(): Record<string, string> {
  const t = token();
  return t === null ? {} : { authorization: `Bearer ${t}` };
}
