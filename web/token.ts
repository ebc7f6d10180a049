/**
 * The service's bearer token in the browser, for a service started with --token-file. Given once,
 * as `?token=` on the page's address or in the page's field, it is kept in sessionStorage (gone
 * when the tab closes) and taken out of the address bar, so it is not bookmarked or shared by
 * copying the link. fetch sends it as a header; images and WebSockets, which cannot send headers,
 * carry it as a cookie the service admits for reads only (src/service/auth.ts).
 */

const KEY = 'keystep.token';
const COOKIE = 'keystep_token';

function setCookie(token: string | null): void {
  document.cookie = token === null ? `${COOKIE}=; path=/; max-age=0; SameSite=Strict` : `${COOKIE}=${encodeURIComponent(token)}; path=/; SameSite=Strict`;
}

/** Reads `?token=` once, at start, and removes it from the address bar. */
export function adoptTokenFromAddress(): void {
  const url = new URL(location.href);
  const given = url.searchParams.get('token');
  if (given === null) {
    const kept = sessionStorage.getItem(KEY);
    if (kept !== null) setCookie(kept);
    return;
  }
  url.searchParams.delete('token');
  history.replaceState(history.state, '', url.pathname + url.search + url.hash);
  setToken(given);
}

export function setToken(token: string | null): void {
  const t = token?.trim() ?? '';
  if (t === '') {
    sessionStorage.removeItem(KEY);
    setCookie(null);
    return;
  }
  sessionStorage.setItem(KEY, t);
  setCookie(t);
}

export const hasToken = (): boolean => sessionStorage.getItem(KEY) !== null;

/** The header fetch sends: none without a token. */
export function authHeaders(): Record<string, string> {
  const token = sessionStorage.getItem(KEY);
  return token === null ? {} : { authorization: `Bearer ${token}` };
}
