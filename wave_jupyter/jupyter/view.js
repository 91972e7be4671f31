// The live view of a Wave app in an output cell, delivered by the kernel (anywidget): it renders in JupyterLab,
// Notebook 7, VS Code, Colab and any other anywidget host, with no extension.
//
// Each view picks how its browser reaches the app, in order (the "ladder"):
//   direct  the kernel's server on loopback (a local notebook)
//   proxy   jupyter-server-proxy under the notebook's base URL
//   comm    everything over the widget's comm: the unchanged Wave UI in a sandboxed frame (frame.js), its socket
//           and file requests relayed to the kernel; its files cached in this browser by h2o-wave version
// `transport` ('auto', 'direct', 'proxy' or 'comm') pins a rung.

const FRAME_JS = '__FRAME_JS__';
const CACHE = 'wave-jupyter-ui';
const PROBE_MS = 1500;
// A view that fits its app: this tall until the app says how tall it is, and never outside these bounds.
const FIT_START = 300;
const FIT_MIN = 120;
const FIT_MAX = 1200;
const FIT_PAD = 16;
// A comm view's heartbeat while it has sockets: the kernel closes them after long silence (commlink.py).
const HEARTBEAT_MS = 20000;

// 'starting' after the view exists means a new kernel process: a restart not seen as 'restarting'.
const DEAD = new Set(['dead', 'restarting', 'autorestarting', 'starting']);
const KERNEL_GONE = 'Kernel restarted or dead: re-run the cell to start the app again';

/** The frame that shows the app, on any rung. */
function appFrame(route) {
  const frame = document.createElement('iframe');
  frame.className = 'wave-jupyter-frame';
  frame.title = `Wave app ${route}`;
  frame.style.cssText = 'width:100%;height:100%;border:0;display:block';
  return frame;
}

const loopback = (host) => ['localhost', '127.0.0.1', '[::1]', '::1'].includes(host);

function jupyterBase() {
  // JupyterLab and Notebook 7 put their page config in the document; other hosts have none (no proxy there).
  const node = document.getElementById('jupyter-config-data');
  if (!node) return null;
  try {
    const base = JSON.parse(node.textContent || '{}').baseUrl;
    return typeof base === 'string' ? base : null;
  } catch (e) {
    return null;
  }
}

async function reachable(url, mode) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), PROBE_MS);
  try {
    const response = await fetch(url, { mode, cache: 'no-store', signal: controller.signal, credentials: 'omit' });
    return mode === 'no-cors' || response.ok;
  } catch (e) {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The URL of a rung that loads the app over HTTP, or null: the view then uses the comm. The kernel says where the
 * app is (`where`: `direct`, an absolute URL naming 127.0.0.1, never localhost; `proxy`, a path relative to the
 * Jupyter server's base URL in jupyter-server-proxy's `proxy/127.0.0.1:<port>/` form): only the base is the page's.
 */
async function httpUrl(model, where) {
  const wanted = model.get('transport') || 'auto';
  if (!where || !where.direct || wanted === 'comm') return null;
  const direct = where.direct;
  if (wanted === 'direct') return direct;
  const base = jupyterBase();
  const proxy = base === null ? null : `${base.endsWith('/') ? base : base + '/'}${where.proxy}`;
  if (wanted === 'proxy') return proxy;
  if (location.protocol === 'http:' && loopback(location.hostname) && (await reachable(direct.replace(/[^/]*$/, 'favicon.ico'), 'no-cors'))) return direct;
  if (proxy && (await reachable(proxy.replace(/[^/]*$/, 'favicon.ico'), 'same-origin'))) return proxy;
  return null;
}

// --- the UI's files, cached in this browser (the notebook's origin) ----------------------------------------------

function openCache() {
  return new Promise((resolve) => {
    try {
      const request = indexedDB.open(CACHE, 1);
      request.onupgradeneeded = () => request.result.createObjectStore('files');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => resolve(null);
    } catch (e) {
      resolve(null);
    }
  });
}

// One record per h2o-wave version, {names, buffers}: one read of ~8 MB takes a fraction of what ~400 reads take.
function cachedBundle(db, version) {
  return new Promise((resolve) => {
    if (!db) return resolve(null);
    try {
      const request = db.transaction('files', 'readonly').objectStore('files').get(`bundle/${version}`);
      request.onsuccess = () => resolve(request.result || null);
      request.onerror = () => resolve(null);
    } catch (e) {
      resolve(null);
    }
  });
}

function keepBundle(db, version, files) {
  if (!db) return;
  try {
    const store = db.transaction('files', 'readwrite').objectStore('files');
    store.clear(); // other versions' files, and the one-file-per-record layout of older releases
    store.put({ names: files.map(([n]) => n), buffers: files.map(([, b]) => b) }, `bundle/${version}`);
  } catch (e) {
    /* a full or unavailable cache only costs a slower start */
  }
}

// --- the comm rung -------------------------------------------------------------------------------------------------

// The frame may open new tabs (external links do, as on the direct rung), and those tabs are ordinary pages.
const SANDBOX = 'allow-scripts allow-forms allow-popups allow-popups-to-escape-sandbox allow-downloads allow-modals';

class CommRung {
  constructor(model, body, onState) {
    this.model = model;
    this.body = body;
    this.onState = onState;
    this.sockets = new Set();
    this.waiting = null;
    this.port = null;
    this.onMessage = (message, buffers) => this.fromKernel(message, buffers);
    this.onLeave = () => this.closeSockets(); // the page goes away: its tabs are gone (a direct socket would close)
    model.on('msg:custom', this.onMessage);
    window.addEventListener('pagehide', this.onLeave);
    this.beat = setInterval(() => this.sockets.size && this.send({ t: 'beat' }), HEARTBEAT_MS);
    this.cache = openCache(); // opened while the kernel answers the boot
    this.build();
  }

  /**
   * A new frame with the bridge, and a new relay: a MessageChannel whose port goes to the frame's first document,
   * and to nothing else. A document the frame navigates to (a link, a redirect) gets no port and cannot reach the
   * relay; the view then closes that relay and builds the app's frame again.
   */
  build() {
    this.unbuild();
    const frame = (this.frame = appFrame(this.model.get('route')));
    frame.setAttribute('sandbox', SANDBOX);
    const channel = new MessageChannel();
    let loads = 0;
    frame.addEventListener('load', () => {
      if (frame !== this.frame) return;
      if (++loads === 1) {
        this.port = channel.port1;
        this.port.onmessage = (event) => this.fromFrame(event.data || {});
        frame.contentWindow.postMessage({ t: 'port' }, '*', [channel.port2]);
      } else {
        this.build(); // the frame left the app: its relay is closed, the app's frame comes back
      }
    });
    frame.srcdoc = `<!doctype html><html><head><meta charset="utf-8"><script>${FRAME_JS}<` +
      '/script></head><body><div id="wave-root"></div></body></html>';
    this.body.append(frame);
  }

  unbuild() {
    this.closeSockets();
    if (this.port) this.port.close();
    this.port = null;
    if (this.frame) this.frame.remove();
    this.frame = null;
  }

  send(message, buffers) {
    this.model.send(message, undefined, buffers || []);
  }

  toFrame(message, transfer) {
    if (!this.port) return;
    try {
      this.port.postMessage(message, transfer || []);
    } catch (e) {
      this.port.postMessage(message); // a buffer that cannot move is copied
    }
  }

  async fromFrame(m) {
    if (m.t === 'boot') {
      this.onState('loading');
      this.send({ t: 'boot' });
    } else if (m.t === 'open') {
      this.sockets.add(m.sid);
      this.toFrame({ t: 'opened', sid: m.sid });
      this.send(m);
      this.onState('live');
    } else if (m.t === 'frame') {
      this.send(m);
    } else if (m.t === 'close') {
      this.sockets.delete(m.sid);
      this.send(m);
    } else if (m.t === 'http') {
      const { body, ...rest } = m;
      this.send(rest, [body]);
    }
  }

  async fromKernel(message, buffers) {
    const m = message || {};
    if (m.t === 'ui') {
      await this.loadUi(m);
    } else if (m.t === 'assets' && this.waiting) {
      m.names.forEach((name, i) => this.waiting.got.push([name, toArrayBuffer(buffers[i])]));
      if (m.last) this.waiting.done();
    } else if (m.t === 'frame') {
      this.toFrame(m);
    } else if (m.t === 'close') {
      this.sockets.delete(m.sid);
      this.toFrame(m);
      if (!this.sockets.size) this.onState('reconnecting'); // the UI opens a new socket at once
    } else if (m.t === 'reload') {
      this.build();
    } else if (m.t === 'http') {
      const body = toArrayBuffer(buffers[0] || new ArrayBuffer(0));
      this.toFrame({ ...m, body }, [body]);
    }
  }

  async loadUi(ui) {
    const db = await this.cache;
    const bundle = await cachedBundle(db, ui.version);
    const have = new Map(bundle ? bundle.names.map((n, i) => [n, bundle.buffers[i]]) : []);
    const files = [];
    const missing = [];
    for (const name of ui.names) (have.has(name) ? files.push([name, have.get(name)]) : missing.push(name));
    if (missing.length) {
      const got = await new Promise((resolve) => {
        this.waiting = { got: [], done: () => resolve(this.waiting.got) };
        this.send({ t: 'assets', names: missing });
      });
      this.waiting = null;
      files.push(...got);
      keepBundle(db, ui.version, files); // cloned now: the buffers can still move to the frame
    }
    // The buffers move to the frame, not copied.
    this.toFrame({ t: 'ui', index: ui.index, files }, files.map(([, b]) => b));
  }

  closeSockets() {
    for (const sid of this.sockets) this.send({ t: 'close', sid });
    this.sockets.clear();
  }

  destroy() {
    clearInterval(this.beat);
    this.unbuild();
    this.model.off('msg:custom', this.onMessage);
    window.removeEventListener('pagehide', this.onLeave);
  }
}

function toArrayBuffer(buffer) {
  if (buffer instanceof ArrayBuffer) return buffer;
  if (ArrayBuffer.isView(buffer)) return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
  return new ArrayBuffer(0);
}

// --- the view ------------------------------------------------------------------------------------------------------

const STATES = {
  connecting: 'connecting\u2026',
  loading: 'loading the UI\u2026',
  live: 'live',
  reconnecting: 'reconnecting\u2026',
  stopped: 'stopped',
  gone: 'kernel dead or restarted',
};
// The kernel busy for this long: the view says that clicks wait for the running cell.
const BUSY_MS = 500;

function render({ model, el }) {
  el.classList.add('wave-jupyter-view');
  const bar = document.createElement('div');
  bar.className = 'wave-jupyter-toolbar';
  bar.style.cssText = 'display:flex;gap:.75em;align-items:center;font:12px var(--jp-ui-font-family,sans-serif);padding:2px 4px';
  const label = document.createElement('code');
  label.className = 'wave-jupyter-route';
  const state = document.createElement('span');
  state.className = 'wave-jupyter-state';
  const rung = document.createElement('span');
  rung.className = 'wave-jupyter-rung';
  rung.style.opacity = '0.7';
  const clients = document.createElement('span');
  clients.className = 'wave-jupyter-clients';
  clients.style.opacity = '0.7';
  const waiting = document.createElement('span');
  waiting.className = 'wave-jupyter-waiting';
  waiting.style.cssText = 'color:var(--jp-warn-color1,#b26a00)';
  bar.append(label, state, rung, clients, waiting);
  const body = document.createElement('div');
  body.className = 'wave-jupyter-body';
  body.style.cssText = 'position:relative;width:100%';
  el.append(bar, body);

  let current = null; // the rung now showing: {kind, destroy()}
  let where = null; // where the kernel says the app is served: {direct, proxy}
  let alive = true;

  const setState = (s) => {
    state.textContent = STATES[s] || s;
    el.dataset.state = s;
  };
  // The app's own height, as its page reports it (static/size.js), for a view that fits the app.
  let fitted = null;
  const setHeight = () => {
    // 0: as tall as the container (the preview panel); -1: as tall as the app (within bounds); else that many pixels.
    const wanted = Number(model.get('height'));
    const fill = wanted === 0;
    const px = wanted > 0 ? wanted : fitted === null ? FIT_START : Math.min(FIT_MAX, Math.max(FIT_MIN, fitted + FIT_PAD));
    body.style.height = fill ? '' : `${px}px`;
    body.style.flex = fill ? '1 1 auto' : '';
    el.style.cssText = fill ? 'display:flex;flex-direction:column;height:100%' : '';
    el.dataset.height = fill ? 'fill' : wanted > 0 ? 'fixed' : 'fit';
  };
  const onSize = (event) => {
    const frame = body.querySelector('iframe');
    const m = event.data || {};
    if (!frame || event.source !== frame.contentWindow || m.t !== 'wave-jupyter-height' || !(m.h > 0)) return;
    fitted = m.h;
    setHeight();
  };
  window.addEventListener('message', onSize);
  const clear = () => {
    if (current) current.destroy();
    current = null;
    body.replaceChildren();
  };
  const message = (text) => {
    clear();
    const div = document.createElement('div');
    div.className = 'wave-jupyter-message';
    div.style.cssText = 'padding:1em;opacity:.8';
    div.textContent = text;
    body.append(div);
  };

  const show = async () => {
    label.textContent = model.get('route');
    if (model.get('status') === 'stopped') {
      setState('stopped');
      return message('This app was stopped. Re-run the cell to start it again.');
    }
    setState('connecting');
    const url = await httpUrl(model, where);
    if (!alive) return;
    clear();
    if (url) {
      const frame = appFrame(model.get('route'));
      frame.src = url;
      frame.onload = () => setState('live');
      body.append(frame);
      current = { kind: url.includes('/proxy/') ? 'proxy' : 'direct', destroy: () => frame.remove() };
    } else {
      current = new CommRung(model, body, setState);
      current.kind = 'comm';
    }
    rung.textContent = `via ${current.kind}`;
    el.dataset.rung = current.kind;
  };

  // The kernel, where the host lets a widget see it (JupyterLab, Notebook 7): a restart or death ends the app.
  const kernel = model.widget_manager && model.widget_manager.kernel;
  let gone = false;
  const dead = () => {
    if (gone) return;
    gone = true;
    alive = false;
    setState('gone');
    waiting.textContent = '';
    message(KERNEL_GONE);
  };
  let busyTimer = null;
  const onStatus = (_, s) => {
    if (DEAD.has(s)) return dead();
    clearTimeout(busyTimer);
    if (s === 'busy') {
      busyTimer = setTimeout(() => {
        waiting.textContent = 'a cell is running: clicks wait for it';
        el.dataset.kernel = 'busy';
      }, BUSY_MS);
    } else {
      waiting.textContent = '';
      el.dataset.kernel = s;
    }
  };
  const onConnection = (_, s) => s === 'disconnected' && dead();
  if (kernel && kernel.statusChanged) {
    kernel.statusChanged.connect(onStatus);
    if (kernel.connectionStatusChanged) kernel.connectionStatusChanged.connect(onConnection);
    if (DEAD.has(kernel.status)) dead();
  }

  const onCustom = (m) => {
    if (m && m.t === 'where' && !gone) {
      where = { direct: m.direct || '', proxy: m.proxy || '' };
      show();
    }
  };
  const showClients = () => {
    const n = Number(model.get('clients')) || 0;
    clients.textContent = n === 1 ? '1 client' : `${n} clients`;
    el.dataset.clients = String(n);
  };
  showClients();
  model.on('change:clients', showClients);
  model.on('msg:custom', onCustom);
  model.on('change:status', show);
  model.on('change:height', setHeight);
  setHeight();
  setState('connecting');
  label.textContent = model.get('route');
  model.send({ t: 'hello' });

  return () => {
    alive = false;
    if (kernel && kernel.statusChanged) {
      kernel.statusChanged.disconnect(onStatus);
      if (kernel.connectionStatusChanged) kernel.connectionStatusChanged.disconnect(onConnection);
    }
    model.off('msg:custom', onCustom);
    model.off('change:status', show);
    model.off('change:height', setHeight);
    model.off('change:clients', showClients);
    clearTimeout(busyTimer);
    window.removeEventListener('message', onSize);
    clear();
  };
}

export default { render };
