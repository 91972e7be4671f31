// Which rung a view climbs to: the kernel's server on loopback (a local notebook), jupyter-server-proxy under the
// notebook's base URL, or else the comm (null here). The kernel says where the app is served (`where`: `direct`, an
// absolute URL on 127.0.0.1; `proxy`, a path relative to the Jupyter base URL, see wave_jupyter/urls.py); the page
// only knows its own location and base URL, and what it can reach.

export const PROBE_MS = 1500;

export const isLoopback = (host) => ['localhost', '127.0.0.1', '[::1]', '::1'].includes(String(host).toLowerCase());

/**
 * The Jupyter server's base URL as this page knows it, or null (a host with no Jupyter server: no proxy there).
 * JupyterLab and Notebook 7 keep it in their page config; nbclassic (Notebook 6 on Jupyter Server) and Voilà in the
 * body's `data-base-url`.
 */
export function jupyterBase(doc) {
  const node = doc.getElementById('jupyter-config-data');
  if (node) {
    try {
      const base = JSON.parse(node.textContent || '{}').baseUrl;
      if (typeof base === 'string' && base) return base;
    } catch (e) {
      /* a page config we cannot read: try the body */
    }
  }
  const body = doc.body && doc.body.dataset ? doc.body.dataset.baseUrl : undefined;
  return typeof body === 'string' && body ? body : null;
}

/**
 * Whether `url` answers within PROBE_MS ('no-cors': any answer, sent with no cookies; 'same-origin': a 2xx that
 * was not a redirect, sent with the page's cookies, as the frame will be: a proxy that sends us to its login page
 * has not answered).
 */
export async function reachable(url, mode) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), PROBE_MS);
  const credentials = mode === 'same-origin' ? 'same-origin' : 'omit';
  try {
    const response = await fetch(url, { mode, cache: 'no-store', signal: controller.signal, credentials });
    return mode === 'no-cors' || (response.ok && !response.redirected);
  } catch (e) {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

const favicon = (url) => url.replace(/[^/]*$/, 'favicon.ico');

/**
 * The URL of the rung that loads the app over HTTP, or null for the comm.
 * @param wanted 'auto', 'direct', 'proxy' or 'comm'
 * @param where the kernel's `{direct, proxy}` ('' or missing without a port)
 * @param page `{protocol, hostname}` of this page
 * @param base the Jupyter base URL (jupyterBase), or null
 * @param probe `(url, mode) => Promise<boolean>` (reachable)
 */
export async function httpRung(wanted, where, page, base, probe = reachable) {
  if (!where || !where.direct || wanted === 'comm') return null;
  if (wanted === 'direct') return where.direct;
  const proxy = base === null || !where.proxy ? null : `${base.endsWith('/') ? base : base + '/'}${where.proxy}`;
  if (wanted === 'proxy') return proxy;
  if (page.protocol === 'http:' && isLoopback(page.hostname) && (await probe(favicon(where.direct), 'no-cors'))) {
    return where.direct;
  }
  if (proxy && (await probe(favicon(proxy), 'same-origin'))) return proxy;
  return null;
}

/** The rung's name for a URL httpRung gave (null: the comm). */
export const rungOf = (url) => (url === null ? 'comm' : url.includes('/proxy/') ? 'proxy' : 'direct');
