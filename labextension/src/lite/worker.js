// A lite site's Python: Pyodide in a Web Worker, the site's packages unpacked (no resolution, no micropip: the build
// decided everything), then wave_jupyter's worker host (wave_jupyter/lite/worker.py) runs the app. Messages of the
// page's relay come in as {t:'msg', text, buffers}; the host's go out the same way.

let host = null;
const waiting = [];
const say = (message, transfer) => self.postMessage(message, transfer || []);
// Where the time goes: milliseconds since the worker started, per step (the page keeps them: window.waveLite).
const t0 = performance.now();
const timings = {};
const mark = (name) => (timings[name] = Math.round(performance.now() - t0));
const progress = (step, fraction, detail) => say({ t: 'progress', step, fraction, detail, timings });

/** A site file: the service worker, where there is one, answers from its cache. */
async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${response.statusText}`);
  return response.arrayBuffer();
}

function deliver(m) {
  host.receive(m.text, (m.buffers || []).map((b) => new Uint8Array(b)));
}

async function start(manifest, base) {
  const site = (path) => new URL(path, base).href;
  const indexURL = site(manifest.pyodide.index);
  const python = fetchBytes(site(manifest.python)); // in parallel with Pyodide's own start
  progress('Python', 0.1, `Pyodide ${manifest.pyodide.version}`);
  const { loadPyodide } = await import(`${indexURL}pyodide.mjs`);
  mark('pyodide.mjs');
  const pyodide = await loadPyodide({ indexURL, env: { HOME: '/home/pyodide' } });
  mark('python');
  progress('packages', 0.6, `${Object.keys(manifest.distributions).length} distributions`);
  if (manifest.pyodide.packages.length) await pyodide.loadPackage(manifest.pyodide.packages);
  pyodide.unpackArchive(await python, 'zip', { extractDir: '/lite' });
  mark('packages');
  progress('app', 0.8, manifest.app);
  pyodide.runPython("import sys; sys.path[:0] = ['/lite/site-packages']");
  pyodide.pyimport('wave_jupyter.lite.worker');
  mark('imports');
  const post = (text, buffers) => {
    const copies = buffers.map((b) => b.slice()); // out of Python's memory, before they move
    say({ t: 'msg', text, buffers: copies.map((b) => b.buffer) }, copies.map((b) => b.buffer));
  };
  host = pyodide.pyimport('wave_jupyter.lite.worker').start(`/lite/app/${manifest.app}`, manifest.route, post);
  mark('app');
  while (waiting.length) deliver(waiting.shift());
  say({ t: 'ready', timings });
}

self.onmessage = (event) => {
  const m = event.data || {};
  if (m.t === 'start') {
    start(m.manifest, m.base).catch((e) => say({ t: 'error', text: `Python could not start the app: ${e.message}` }));
  } else if (m.t === 'msg') {
    if (host) deliver(m);
    else waiting.push(m); // the UI is up before Python: its messages wait for the app
  }
};
