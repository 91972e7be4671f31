/**
 * Where the browser finds a Wave app served by the kernel.
 *
 * The server binds 127.0.0.1 only. A notebook opened on the same machine at base URL '/' over plain http can load
 * the app straight from loopback (keeping the page's own host name). Anywhere else (a remote or https notebook, a
 * base URL, JupyterHub) the browser can only reach it through jupyter-server-proxy at `{baseUrl}proxy/{port}/...`.
 * Either way the server's secret is the first segment of the path: it is sent to that server only (a cookie would
 * go to every port of the host).
 */

/** 'auto' picks 'direct' for a local notebook at '/' over http, else 'proxy'. */
export type UrlMode = 'auto' | 'direct' | 'proxy';

/** The parts of `window.location` that matter. */
export interface PageLocation {
  protocol: string;
  hostname: string;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** Whether a host name names this machine's loopback interface. */
export function isLoopback(hostname: string): boolean {
  return LOOPBACK.has(hostname.toLowerCase());
}

/**
 * The path part of a base URL. `PageConfig.getBaseUrl()` gives an absolute URL (`http://127.0.0.1:8888/`) in
 * JupyterLab and Notebook 7; a bare path ('/user/ann/') is taken as is.
 */
export function basePath(baseUrl: string): string {
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(\/[^?#]*)?/i.exec(baseUrl);
  return absolute ? absolute[1] || '/' : baseUrl;
}

/** Whether `mode` resolves to loading the app straight from the server's port. */
export function isDirect(location: PageLocation, baseUrl: string, mode: UrlMode): boolean {
  if (mode === 'direct') {
    return true;
  }
  if (mode === 'proxy') {
    return false;
  }
  return isLoopback(location.hostname) && basePath(baseUrl) === '/' && location.protocol === 'http:';
}

/**
 * The URL of the app at `route` on the server listening on `port`, under its secret `token` ('' without one).
 *
 * @param location - the page's location (protocol with its colon, e.g. 'http:', and host name)
 * @param baseUrl - the notebook server's base URL, ending with '/' (`PageConfig.getBaseUrl()`, absolute or a path)
 * @param port - the Wave server's port on 127.0.0.1
 * @param route - the app's route, e.g. '/demo'
 * @param token - the server's secret, the first segment of every path it serves
 * @param mode - 'auto', 'direct' or 'proxy'
 */
export function appUrl(
  location: PageLocation,
  baseUrl: string,
  port: number,
  route: string,
  token: string,
  mode: UrlMode
): string {
  if (!token) {
    return '';
  }
  const path = `/${encodeURIComponent(token)}${route.startsWith('/') ? route : `/${route}`}`;
  if (isDirect(location, baseUrl, mode)) {
    // An IPv6 literal needs its brackets in a URL; window.location.hostname already has them.
    const host = location.hostname.includes(':') && !location.hostname.startsWith('[')
      ? `[${location.hostname}]`
      : location.hostname;
    return `http://${host}:${port}${path}`;
  }
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return `${base}proxy/${port}${path}`;
}
