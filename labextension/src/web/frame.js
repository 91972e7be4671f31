// Inside the comm rung's sandboxed frame (an opaque origin: no access to the notebook, its cookies or its kernel):
// the Wave UI's files arrive from the view and run from blob URLs; the UI's network is the bridge (bridge.js), over
// the one MessagePort the view hands to this document: a page the frame navigates to never has it. Bundled as one
// plain script (with the app's height report, size.js), which the view inlines into the frame's srcdoc.
import '../../../wave_jupyter/static/size.js';
import { installBridge } from './bridge.js';

(() => {
  'use strict';
  // Blob URLs of the UI's files, by name (filled when the files arrive).
  const urls = {};
  const bridge = installBridge({ frame: true });

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

  // The relay's port, from the view, once: then the UI is asked for.
  let attached = false;
  window.addEventListener('message', (event) => {
    const m = event.data || {};
    if (attached || event.source !== parent || m.t !== 'port' || !event.ports || !event.ports[0]) return;
    attached = true;
    bridge.attach(event.ports[0], start);
    bridge.post({ t: 'boot' });
  });
})();
