// A lite site's Python: Pyodide in a Web Worker, the site's packages unpacked (no resolution, no micropip: the build
// decided everything), then wave_jupyter's worker host (wave_jupyter/lite/worker.py) runs the app. The page hands
// over one port, whose other end is the UI's bridge (web/bridge.js); a Switchboard (web/switchboard.js) answers the
// bridge and carries its sockets and requests to the host, as a notebook view's relay carries them to a kernel.
//
// The first visit boots Python and imports what the app needs (seconds), then keeps a memory snapshot of that
// interpreter in Cache Storage; later visits restore it instead (under a second). A snapshot is Pyodide's own
// (`_makeSnapshot` / `_loadSnapshot`, with the Pyodide version pinned by the build); it is made before any
// JavaScript object is handed to Python, and the site's files are unpacked again after a restore (they live outside
// the WebAssembly memory).

import { Switchboard } from '../web/switchboard.js';

let host = null;
let fromHost = () => {};
const waiting = []; // what the UI sent before Python was ready
const say = (message, transfer) => self.postMessage(message, transfer || []);
// Where the time goes: milliseconds since the worker started, per step (the page keeps them: window.waveLite).
const t0 = performance.now();
const timings = {};
const mark = (name) => (timings[name] = Math.round(performance.now() - t0));
const progress = (step, fraction, detail) => say({ t: 'progress', step, fraction, detail, timings });

const SNAPSHOTS = 'wave-jupyter-lite-snapshots';

/** A site file: the service worker, where there is one, answers from its cache. */
async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${response.statusText}`);
  return response.arrayBuffer();
}

async function snapshotStore() {
  try {
    return await caches.open(SNAPSHOTS);
  } catch (e) {
    return null; // no Cache Storage (an insecure origin): every visit boots from scratch
  }
}

async function keepSnapshot(store, key, bytes) {
  try {
    for (const request of await store.keys()) if (request.url !== key) await store.delete(request);
    await store.put(key, new Response(bytes));
  } catch (e) {
    console.warn('wave_jupyter lite: the snapshot could not be kept', e);
  }
}

/**
 * Pyodide restores a snapshot into the module's own memory, which has its initial size until Python grows it: a
 * snapshot taken after imports is larger. So, for the restore only, the memory the module exports is grown to the
 * snapshot's size as the module is instantiated (before Pyodide makes its views of it). In this worker only.
 */
async function restoring(size, load) {
  const grow = (result) => {
    const memory = (result.instance || result).exports.memory;
    const missing = Math.ceil(size / 65536) - memory.buffer.byteLength / 65536;
    if (missing > 0) memory.grow(missing);
    return result;
  };
  const { instantiate, instantiateStreaming } = WebAssembly;
  WebAssembly.instantiate = (...args) => instantiate.apply(WebAssembly, args).then(grow);
  WebAssembly.instantiateStreaming = (...args) => instantiateStreaming.apply(WebAssembly, args).then(grow);
  try {
    return await load();
  } finally {
    Object.assign(WebAssembly, { instantiate, instantiateStreaming });
  }
}

async function boot(loadPyodide, indexURL, store, key) {
  const hit = store && (await store.match(key));
  if (hit) {
    try {
      const snapshot = new Uint8Array(await hit.arrayBuffer());
      const pyodide = await restoring(snapshot.byteLength, () => loadPyodide({ indexURL, _loadSnapshot: snapshot }));
      return { pyodide, restored: true };
    } catch (e) {
      console.warn('wave_jupyter lite: the snapshot did not restore; booting afresh', e);
      await store.delete(key);
    }
  }
  return { pyodide: await loadPyodide({ indexURL, env: { HOME: '/home/pyodide' }, _makeSnapshot: true }), restored: false };
}

function deliver([message, buffers]) {
  host.receive(JSON.stringify(message), (buffers || []).map((b) => new Uint8Array(b)));
}

/**
 * The first page, before Python runs (lite.json's `prerender`: what the app's handler showed a new visitor when the
 * site was built, computed by the same code). A tab that joins while Python loads sees it at once; the app's own
 * first answer then replaces it whole (an empty page goes first in the same frame, so nothing of it lingers). Not for
 * a tab that opens on a hash route: that page is the app's to make.
 */
const first = { page: null, shown: new Set() };
// With a first page to show, Python starts once it is on screen (or after a while): compiling Pyodide's WebAssembly
// takes every core, and the UI would otherwise wait for it. The downloads start at once either way.
let painted = null;
const onScreen = new Promise((resolve) => (painted = resolve));

function prerender(message) {
  if (!first.page || message.t !== 'frame' || !/^\+ \S* ?$/.test(message.data)) return;
  first.shown.add(message.sid);
  toPage({ t: 'frame', sid: message.sid, data: first.page }, []);
}

// Frames sent to the page so far: the page is live once its UI has the app's first one, which comes over the port
// while 'answered' comes over the worker's own channel (the two are not ordered with each other).
let framesSent = 0;

function toPage(message, buffers) {
  if (message.t === 'frame') framesSent++;
  fromHost(message, buffers);
}

let answered = false;

function fromPython(message, buffers) {
  if (message.t === 'frame' && first.shown.has(message.sid) && /"[dp]":/.test(message.data)) {
    first.shown.delete(message.sid);
    message = { ...message, data: `{"p":{"c":{}}}\n${message.data}` };
  }
  toPage(message, buffers);
  if (!answered && message.t === 'frame') {
    answered = true; // the app's own first answer: the page is the app's from here on
    say({ t: 'answered', frames: framesSent, timings });
  }
}

/** The Switchboard's channel: the host, once Python runs it. */
const channel = {
  send: (message, buffers) => {
    if (message.t === 'open' && !('ui socket' in timings)) mark('ui socket');
    if (host) return deliver([message, buffers]);
    prerender(message);
    waiting.push([message, buffers]);
  },
  listen: (handler) => {
    fromHost = handler;
    return () => (fromHost = () => {});
  },
};

async function start(manifest, base) {
  const site = (path) => new URL(path, base).href;
  const indexURL = site(manifest.pyodide.index);
  const python = fetchBytes(site(manifest.python)); // in parallel with Pyodide's own start
  const app = fetchBytes(site(manifest.app_files));
  const store = await snapshotStore();
  const key = site(`files/snapshot-${manifest.build}`);
  progress('Python', 0.1, `Pyodide ${manifest.pyodide.version}`);
  if (first.page) await Promise.race([onScreen, new Promise((resolve) => setTimeout(resolve, 1500))]);
  mark('start');
  const { loadPyodide } = await import(`${indexURL}pyodide.mjs`);
  mark('pyodide.mjs');
  const { pyodide, restored } = await boot(loadPyodide, indexURL, store, key);
  timings.restored = restored;
  mark('python');
  progress('packages', 0.6, `${Object.keys(manifest.distributions).length} distributions`);
  // One file: Python imports site-packages from the zip itself (zipimport); the app's own files are unpacked.
  pyodide.FS.mkdirTree('/lite');
  pyodide.FS.writeFile('/lite/python.zip', new Uint8Array(await python));
  pyodide.unpackArchive(await app, 'zip', { extractDir: '/lite' });
  mark('packages');
  progress('app', 0.8, manifest.app);
  if (!restored) {
    pyodide.runPython("import sys; sys.path[:0] = ['/lite/python.zip/site-packages']");
    pyodide.pyimport('wave_jupyter.lite.worker').preload(manifest.preload);
    mark('imports');
    if (store) {
      try {
        keepSnapshot(store, key, pyodide.makeMemorySnapshot().slice()); // a copy: Python runs on meanwhile
      } catch (e) {
        console.warn('wave_jupyter lite: no snapshot of this app (it holds a JavaScript object at import)', e);
      }
    }
    mark('snapshot');
  }
  const post = (text, buffers) => fromPython(JSON.parse(text), buffers.map((b) => b.slice().buffer)); // copies
  host = pyodide.pyimport('wave_jupyter.lite.worker').start(`/lite/app/${manifest.app}`, manifest.route, post);
  mark('app');
  while (waiting.length) deliver(waiting.shift());
  say({ t: 'ready', timings, loaded: performance.getEntriesByType('resource').map((e) => e.name) });
}

self.onmessage = (event) => {
  const m = event.data || {};
  if (m.t === 'painted') return painted();
  if (m.t !== 'start') return;
  first.page = m.manifest.prerender || null;
  const board = new Switchboard(channel, {
    onState: (state) => say({ t: 'state', state }),
    rebuild: () => say({ t: 'reload' }), // the app asked the UI to start again: the page reloads
    cache: null,
  });
  board.attach(event.ports[0]);
  start(m.manifest, m.base).catch((e) => say({ t: 'error', text: `Python could not start the app: ${e.message}` }));
};
