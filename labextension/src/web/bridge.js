// The Wave UI's network, relayed: a WebSocket, and XMLHttpRequest/fetch for `_f/` (uploads, downloads), that talk
// over one MessagePort instead of to a server. Used inside a notebook view's sandboxed frame (frame.js: the port leads
// to the view, and over the widget's comm to the kernel) and by a lite site's page (lite/page.js: the port leads to
// its Python worker). The port's other end is a Switchboard (switchboard.js).
//
// `installBridge({ frame })` replaces the page's WebSocket and XMLHttpRequest and wraps its fetch, before the UI
// starts; `attach(port)` connects it (what the UI sent meanwhile is sent then). In a frame, links to other sites
// open in a new tab, so the frame never leaves the app.

/** `frame`: inside a view's sandboxed frame; `onReceive(message)`: sees what arrives (a page's own counters). */
export function installBridge({ frame, onReceive }) {
  let port = null;
  const early = [];
  const post = (message, transfer) => (port ? port.postMessage(message, transfer || []) : early.push([message, transfer]));
  const receivers = { ui: () => {} };

  // --- the UI's WebSocket, relayed -----------------------------------------------------------------------------
  const sockets = {};
  class RelayedSocket extends EventTarget {
    constructor(url) {
      super();
      this.url = String(url);
      this.readyState = 0;
      this.protocol = '';
      this.extensions = '';
      this.binaryType = 'blob';
      this.bufferedAmount = 0;
      this.sid = Math.random().toString(36).slice(2);
      sockets[this.sid] = this;
      const client = /[?&]client-id=([^&]+)/.exec(this.url);
      post({ t: 'open', sid: this.sid, client: client ? decodeURIComponent(client[1]) : null });
    }
    send(data) {
      if (this.readyState === 1) post({ t: 'frame', sid: this.sid, data: String(data) });
    }
    close() {
      if (this.readyState >= 2) return;
      this.readyState = 2;
      post({ t: 'close', sid: this.sid });
      this._closed(1000);
    }
    _fire(type, event) {
      const handler = this['on' + type];
      if (typeof handler === 'function') handler.call(this, event);
      this.dispatchEvent(event);
    }
    _closed(code) {
      if (this.readyState === 3) return;
      this.readyState = 3;
      delete sockets[this.sid];
      this._fire('close', new CloseEvent('close', { code, wasClean: code === 1000 }));
    }
  }
  Object.assign(RelayedSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  window.WebSocket = RelayedSocket;

  // --- `_f/` requests (uploads, downloads), relayed ------------------------------------------------------------
  const pending = {};
  let nextId = 1;
  const request = (method, path, headers, body) => new Promise((resolve) => {
    const id = nextId++;
    pending[id] = resolve;
    const buffer = body instanceof ArrayBuffer ? body : new ArrayBuffer(0);
    post({ t: 'http', id, method, path, headers, body: buffer }, [buffer]);
  });
  const bodyBytes = async (body) => {
    if (body == null) return { buffer: new ArrayBuffer(0), type: null };
    const response = new Response(body); // FormData becomes multipart, with its boundary in the content type
    return { buffer: await response.arrayBuffer(), type: response.headers.get('Content-Type') };
  };
  class RelayedRequest extends EventTarget {
    constructor() {
      super();
      this.readyState = 0;
      this.status = 0;
      this.responseText = '';
      this.response = '';
      this.responseType = '';
      this.upload = new EventTarget();
      this._headers = {};
    }
    open(method, url) {
      this._method = method;
      this._url = String(url);
      this.readyState = 1;
    }
    setRequestHeader(name, value) {
      this._headers[name] = value;
    }
    getResponseHeader() {
      return null;
    }
    getAllResponseHeaders() {
      return '';
    }
    abort() {}
    async send(body) {
      const { buffer, type } = await bodyBytes(body);
      const headers = Object.assign({}, this._headers);
      if (type && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['Content-Type'] = type;
      const total = buffer.byteLength;
      const progress = (target, type) => {
        const event = new ProgressEvent(type, { lengthComputable: true, loaded: total, total });
        if (typeof target['on' + type] === 'function') target['on' + type](event);
        target.dispatchEvent(event);
      };
      const reply = await request(this._method, this._url, headers, buffer);
      progress(this.upload, 'progress');
      progress(this.upload, 'load');
      this.status = reply.status;
      this.responseText = new TextDecoder().decode(reply.body);
      this.response = this.responseType === 'json' ? JSON.parse(this.responseText || 'null') : this.responseText;
      this.readyState = 4;
      for (const type of ['readystatechange', 'load', 'loadend']) {
        const event = new ProgressEvent(type);
        if (typeof this['on' + type] === 'function') this['on' + type](event);
        this.dispatchEvent(event);
      }
    }
  }
  Object.assign(RelayedRequest, { UNSENT: 0, OPENED: 1, HEADERS_RECEIVED: 2, LOADING: 3, DONE: 4 });
  window.XMLHttpRequest = RelayedRequest;
  const realFetch = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input.url;
    if (!/_f\//.test(url)) return realFetch(input, init);
    const { buffer, type } = await bodyBytes(init && init.body);
    const reply = await request((init && init.method) || 'GET', url, type ? { 'Content-Type': type } : {}, buffer);
    return new Response(reply.body, { status: reply.status, headers: { 'Content-Type': reply.mime || 'application/octet-stream' } });
  };

  // Links. To uploaded files: fetched through the relay, then saved (or opened) from a blob URL of this page. In a
  // frame, to other sites: a new tab, as on the direct rung (the frame itself never leaves the app). Hash routes stay.
  document.addEventListener('click', async (event) => {
    const link = event.target instanceof Element ? event.target.closest('a[href]') : null;
    const href = link ? link.getAttribute('href') : '';
    if (!href || href.startsWith('#') || /^(blob|data|javascript):/i.test(href)) return; // this page's own
    if (!/(^|\/)_f\//.test(href)) {
      if (!frame) return; // a page of its own follows links as any page does
      event.preventDefault();
      if (/^https?:\/\//i.test(href)) window.open(href, '_blank', 'noopener,noreferrer');
      else console.warn(`wave_jupyter: ${href} is not served over the comm`);
      return;
    }
    event.preventDefault();
    const reply = await request('GET', href, {}, new ArrayBuffer(0));
    if (reply.status !== 200) return;
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([reply.body], { type: reply.mime }));
    a.download = link.getAttribute('download') || reply.name || 'download';
    document.body.append(a);
    a.click();
    a.remove();
  }, true);

  const receive = (m) => {
    if (onReceive) onReceive(m);
    if (m.t === 'ui') receivers.ui(m);
    else if (m.t === 'opened' && sockets[m.sid]) {
      sockets[m.sid].readyState = 1;
      sockets[m.sid]._fire('open', new Event('open'));
    } else if (m.t === 'frame' && sockets[m.sid]) sockets[m.sid]._fire('message', new MessageEvent('message', { data: m.data }));
    else if (m.t === 'close' && sockets[m.sid]) sockets[m.sid]._closed(1006);
    else if (m.t === 'http' && pending[m.id]) {
      const resolve = pending[m.id];
      delete pending[m.id];
      resolve(m);
    }
  };

  return {
    /** Connect to `port`; `onUi(message)` gets the UI's files when they come (a frame loads them itself). */
    attach(given, onUi) {
      if (port) return;
      port = given;
      if (onUi) receivers.ui = onUi;
      port.onmessage = (e) => receive(e.data || {});
      for (const [message, transfer] of early.splice(0)) port.postMessage(message, transfer || []);
    },
    post,
  };
}
