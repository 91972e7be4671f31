// A lite site's page: the Wave app with no server. Python (Pyodide) runs in a Web Worker (worker.js), so the UI never
// waits on it; the unchanged Wave UI runs in a sandboxed frame exactly as on a notebook view's comm rung (relay.js),
// and its channel ends here: the UI's own files come from the site (ui.json and one file holding them all, cached
// in IndexedDB by h2o-wave version), everything else (the socket, _f/ uploads and downloads) goes to the worker.
//
// A bar shows the boot's steps (Python, packages, app) until the app answers. What the build put where is in
// lite.json (wave_jupyter/lite/build.py).

import { Relay } from '../web/relay.js';

const $ = (id) => document.getElementById(id);

function progress(step, fraction, detail) {
  const bar = $('wave-lite-progress');
  if (!bar) return;
  bar.dataset.step = step;
  $('wave-lite-step').textContent = detail ? `${step}: ${detail}` : step;
  $('wave-lite-bar').style.width = `${Math.round(100 * Math.min(1, fraction))}%`;
}

function done() {
  const bar = $('wave-lite-progress');
  if (bar) bar.hidden = true;
  document.body.dataset.lite = 'live';
}

function failed(text) {
  const bar = $('wave-lite-progress');
  if (bar) bar.dataset.step = 'error';
  $('wave-lite-step').textContent = text;
  document.body.dataset.lite = 'error';
}

/** The service worker keeps the site's files (Pyodide, the packages, the UI) for the next visit and for offline. */
async function cacheWithServiceWorker() {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
  try {
    await navigator.serviceWorker.register('./sw.js');
    if (navigator.serviceWorker.controller) return;
    // A first visit: the worker's downloads go through the service worker once it controls this page.
    await Promise.race([
      new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true })),
      new Promise((resolve) => setTimeout(resolve, 1000)),
    ]);
  } catch (e) {
    console.warn('wave_jupyter lite: no service worker; the browser cache only', e);
  }
}

/** The relay's channel: the UI is the site's (answered here, at once: the UI starts while Python loads), the rest
 * goes to and comes from the worker. */
function channel(manifest, worker) {
  const listeners = new Set();
  const deliver = (message, buffers) => listeners.forEach((h) => h(message, buffers));
  worker.addEventListener('message', (event) => {
    const m = event.data || {};
    if (m.t === 'msg') deliver(JSON.parse(m.text), m.buffers || []);
  });
  return {
    send(message, buffers) {
      if (message.t === 'boot') {
        deliver({ t: 'ui', site: manifest.ui }, []);
      } else {
        const moved = (buffers || []).map((b) => (b instanceof ArrayBuffer ? b : new Uint8Array(b).slice().buffer));
        worker.postMessage({ t: 'msg', text: JSON.stringify(message), buffers: moved }, moved);
      }
    },
    listen(handler) {
      listeners.add(handler);
      return () => listeners.delete(handler);
    },
  };
}

/** What a benchmark or a curious visitor reads: the boot's timings, in ms since the page started. */
window.waveLite = { timings: {} };
const pageMark = (name) => (window.waveLite.timings[name] = Math.round(performance.now()));

async function main() {
  const base = new URL('.', location.href);
  const manifest = await (await fetch(new URL('lite.json', base), { cache: 'no-cache' })).json();
  document.title = manifest.title || document.title;
  progress('Python', 0.02, 'starting');
  await cacheWithServiceWorker();
  pageMark('service worker');
  const worker = new Worker(new URL('worker.js', base), { type: 'module' });
  worker.addEventListener('message', (event) => {
    const m = event.data || {};
    if (m.t === 'progress') progress(m.step, m.fraction, m.detail);
    if (m.timings) window.waveLite.worker = m.timings;
    if (m.t === 'ready') {
      pageMark('python ready');
      progress('app', 1, 'ready');
      document.body.dataset.python = 'ready';
    } else if (m.t === 'error') failed(m.text);
  });
  worker.addEventListener('error', (e) => failed(`Python could not start: ${e.message || 'the worker failed'}`));
  worker.postMessage({ t: 'start', manifest, base: base.href });
  const app = $('wave-lite-app');
  new Relay(channel(manifest, worker), app, manifest.route, (state) => {
    app.dataset.state = state;
    pageMark(`ui ${state}`);
    if (state === 'live' && document.body.dataset.python === 'ready') done();
  }, base.href);
  worker.addEventListener('message', (event) => {
    if ((event.data || {}).t === 'ready' && app.dataset.state === 'live') done();
  });
}

main().catch((e) => failed(`This site could not start: ${e.message}`));
