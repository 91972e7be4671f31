/**
 * Where the browser finds a Wave app served by the kernel.
 *
 * The kernel says where (`direct`: an absolute URL on 127.0.0.1, never `localhost`, whose `[::1]` twin a browser
 * would try first; `proxy`: jupyter-server-proxy's `proxy/127.0.0.1:<port>/...` path, relative to the Jupyter base
 * URL): the rules live in one place, `wave_jupyter/urls.py`. Only the choice between the two is made here, for the
 * preview's fallback frame and "open in a browser tab", which cannot probe: a local notebook at '/' over plain http
 * takes the direct URL, anything else (a remote or https notebook, a base URL, JupyterHub) the proxy.
 */

/** 'auto' picks 'direct' for a local notebook at '/' over http, else 'proxy'. */
export type UrlMode = 'auto' | 'direct' | 'proxy';

/** The parts of `window.location` that matter. */
export interface PageLocation {
  protocol: string;
  hostname: string;
}

/** The kernel's URLs of one app ('' without a port). */
export interface AppUrls {
  direct: string;
  proxy: string;
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
 * The URL of an app for this page, '' until the kernel said where it is.
 *
 * @param location - the page's location (protocol with its colon, e.g. 'http:', and host name)
 * @param baseUrl - the notebook server's base URL (`PageConfig.getBaseUrl()`, absolute or a path)
 * @param urls - the kernel's `direct` and `proxy` URLs of the app
 * @param mode - 'auto', 'direct' or 'proxy'
 */
export function appUrl(location: PageLocation, baseUrl: string, urls: AppUrls, mode: UrlMode): string {
  if (!urls.direct) {
    return '';
  }
  if (isDirect(location, baseUrl, mode)) {
    return urls.direct;
  }
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return `${base}${urls.proxy}`;
}
