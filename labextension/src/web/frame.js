// The bridge inside the comm rung's sandboxed frame (an opaque origin: no access to the notebook, its cookies or
// its kernel). It receives the Wave UI's files from the view, runs the UI from blob URLs, and gives it a
// WebSocket and an XMLHttpRequest/fetch for `_f/` that are relayed to the view. Everything goes over the one
// MessagePort the view hands to this document: a page the frame navigates to never has it. Bundled as one plain
// script (with the app's height report, size.js), which the view inlines into the frame's srcdoc.
import '../../../wave_jupyter/static/size.js';

(() => {
  'use strict';
  let port = null;
  // Blob URLs of the UI's files, by name (filled when the files arrive).
  const urls = {};
  const post = (message, transfer) => port && port.postMessage(message, transfer || []);

  // --- the UI's files, as blob URLs of this frame -------------------------------------------------------------
  // Blob URLs have no directory, so a relative import in one cannot resolve: the UI's module specifiers
  // ("./x-1234.js") are renamed to bare names ("@wave/x-1234.js") that an import map sends to the files' blob URLs.
  const start = (message) => {
    const names = new Set(message.files.map((f) => f[0]));
    const text = new TextDecoder();
    for (const [name, buf] of message.files) {
      if (!name.endsWith('.js') && !name.endsWith('.css')) urls[name] = URL.createObjectURL(new Blob([buf]));
    }
    for (const [name, buf] of message.files) {
      if (!name.endsWith('.js')) continue;
      const code = text.decode(buf).replace(/(["'])\.\/([A-Za-z0-9_.-]+\.js)\1/g,
        (all, q, file) => (names.has(file) ? q + '@wave/' + file + q : all));
      urls[name] = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
    }
    for (const [name, buf] of message.files) {
      if (!name.endsWith('.css')) continue;
      const css = text.decode(buf).replace(/url\(\.\/([^)]+)\)/g, (all, file) => (urls[file] ? 'url(' + urls[file] + ')' : all));
      urls[name] = URL.createObjectURL(new Blob([css], { type: 'text/css' }));
    }
    const imports = {};
    for (const name of names) if (name.endsWith('.js')) imports['@wave/' + name] = urls[name];
    const map = document.createElement('script');
    map.type = 'importmap';
    map.textContent = JSON.stringify({ imports });
    document.head.append(map);
    const css = /href="\.\/wave-static\/([^"]+\.css)"/.exec(message.index);
    const entry = /src="\.\/wave-static\/([^"]+\.js)"/.exec(message.index);
    if (css) {
      const link = document.createElement('link');
      link.rel = 'stylesheet';
      link.href = urls[css[1]];
      document.head.append(link);
    }
    document.body.dataset.baseUrl = location.pathname; // 'srcdoc': the kernel maps this view's frames to its route
    document.body.dataset.nonce = '';
    const boot = document.createElement('script');
    boot.type = 'module';
    boot.textContent = "import '@wave/" + entry[1] + "';";
    document.head.append(boot);
  };

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
    return new Response(reply.body, { status: reply.status, headers: { 'Content-Type': reply.type || 'application/octet-stream' } });
  };

  // Links. To uploaded files: fetched through the view, then saved (or opened) from a blob URL of this frame. To
  // other sites: a new tab, as on the direct rung (the frame itself never leaves the app). Hash routes stay here.
  document.addEventListener('click', async (event) => {
    const link = event.target instanceof Element ? event.target.closest('a[href]') : null;
    const href = link ? link.getAttribute('href') : '';
    if (!href || href.startsWith('#') || /^(blob|data|javascript):/i.test(href)) return; // this frame's own
    if (!/(^|\/)_f\//.test(href)) {
      event.preventDefault();
      if (/^https?:\/\//i.test(href)) window.open(href, '_blank', 'noopener,noreferrer');
      else console.warn(`wave_jupyter: ${href} is not served over the comm`);
      return;
    }
    event.preventDefault();
    const reply = await request('GET', href, {}, new ArrayBuffer(0));
    if (reply.status !== 200) return;
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([reply.body], { type: reply.type }));
    a.download = link.getAttribute('download') || reply.name || 'download';
    document.body.append(a);
    a.click();
    a.remove();
  }, true);

  // A relative URL resolved against a blob URL (the UI's module preloads: `new URL(dep, import.meta.url)`) names
  // one of the UI's files: it is that file's blob URL. Anything else relative gets a harmless placeholder base.
  const RealURL = URL;
  window.URL = class extends RealURL {
    constructor(url, base) {
      const text = String(url);
      const own = /^(?:\.\/|@wave\/)?([A-Za-z0-9_.-]+)$/.exec(text);
      if (base !== undefined && own && urls[own[1]]) super(urls[own[1]]);
      else {
        if (typeof base === 'string' && !/^https?:/i.test(base) && !/^[a-z][a-z0-9+.-]*:/i.test(text)) base = 'http://wave.invalid/';
        super(url, base);
      }
    }
  };
  for (const name of ['createObjectURL', 'revokeObjectURL', 'canParse', 'parse']) {
    if (RealURL[name]) window.URL[name] = RealURL[name].bind(RealURL);
  }
  // No service worker in an opaque origin (registering one throws): the UI asks `'serviceWorker' in navigator`.
  try {
    delete Navigator.prototype.serviceWorker;
  } catch (e) { /* not deletable: the UI copes */ }

  const receive = (m) => {
    if (m.t === 'ui') start(m);
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
  // The relay's port, from the view, once: then the UI is asked for.
  window.addEventListener('message', (event) => {
    const m = event.data || {};
    if (port || event.source !== parent || m.t !== 'port' || !event.ports || !event.ports[0]) return;
    port = event.ports[0];
    port.onmessage = (e) => receive(e.data || {});
    post({ t: 'boot' });
  });
})();
