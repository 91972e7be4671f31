// A lite site's page: the unchanged Wave UI is this page (the site's index.html is Wave's own, its files under
// files/), and Python (Pyodide) runs in a Web Worker (worker.js), so the UI never waits on it. The UI's network is
// the bridge (web/bridge.js), whose port leads straight to the worker: no server anywhere.
//
// This script runs before the UI's (it comes first in the page): the bridge must be in place when the UI connects.
// A bar shows the boot's steps (Python, packages, app) until the app answers. lite.json says what is where
// (wave_jupyter/lite/build.py).

import { installBridge } from '../web/bridge.js';

/** What a benchmark or a curious visitor reads: the boot's timings (ms since the page started) and the frames the
 * UI got from the app. */
window.waveLite = { timings: {}, frames: 0 };
let onFrame = () => {};
const bridge = installBridge({
  frame: false,
  onReceive: (m) => {
    if (m.t !== 'frame') return;
    window.waveLite.frames++;
    onFrame();
  },
});
// The UI takes every URL from its base, which must be a prefix of the page's path: the site's folder, wherever it is.
document.body.dataset.baseUrl = location.pathname.replace(/[^/]*$/, '');
// The UI unregisters every service worker as it starts; this page's is the site's cache, so the UI does not see it.
const serviceWorker = navigator.serviceWorker;
try {
  delete Navigator.prototype.serviceWorker;
} catch (e) {
  /* then the UI unregisters it and the next visit registers it again */
}

const pageMark = (name) => (window.waveLite.timings[name] = Math.round(performance.now()));

const $ = (id) => document.getElementById(id);

function progress(step, fraction, detail) {
  const bar = $('wave-lite-progress');
  if (!bar) return;
  bar.dataset.step = step;
  $('wave-lite-step').textContent = detail ? `${step}: ${detail}` : step;
  $('wave-lite-bar').style.width = `${Math.round(100 * Math.min(1, fraction))}%`;
}

function done() {
  for (const id of ['wave-lite-progress', 'wave-lite-shield']) if ($(id)) $(id).hidden = true;
  document.body.dataset.lite = 'live';
}

function failed(text) {
  const bar = $('wave-lite-progress');
  if (bar) bar.dataset.step = 'error';
  $('wave-lite-step').textContent = text;
  document.body.dataset.lite = 'error';
}

/** `then()` once the UI has had `frames` frames and drawn what they hold: the app's first page replaces the site's
 * first page whole, and what is typed into a box that goes is lost. The UI draws a frame a little after it gets it;
 * a page with no cards to draw is live after a second. */
function whenShown(frames, then) {
  let once = () => {
    once = () => {};
    then();
  };
  onFrame = () => {
    if (window.waveLite.frames < frames) return;
    onFrame = () => {};
    const root = $('wave-root') || document.body;
    const card = (n) => n instanceof Element && (n.matches('[data-test]') || n.querySelector('[data-test]'));
    const watch = new MutationObserver((changes) => {
      if (!changes.some((c) => [...c.addedNodes].some(card))) return;
      watch.disconnect();
      requestAnimationFrame(() => once());
    });
    watch.observe(root, { childList: true, subtree: true });
    setTimeout(() => {
      watch.disconnect();
      once();
    }, 1000);
  };
  onFrame();
}

/** `then()` once the UI shows a card (the site's first page, or the app's). */
function whenPainted(then) {
  const root = document.getElementById('wave-root');
  const seen = () => root && root.querySelector('.wave-animate-card, [data-test]');
  if (seen()) return then();
  const watch = new MutationObserver(() => {
    if (seen()) {
      watch.disconnect();
      then();
    }
  });
  watch.observe(document.body, { childList: true, subtree: true });
}

/** The service worker keeps the site's files (Pyodide, the packages, the UI) for the next visit and for offline. */
function cacheWithServiceWorker() {
  if (!serviceWorker || !window.isSecureContext) return;
  serviceWorker.register('./sw.js').catch((e) => console.warn('wave_jupyter lite: no service worker', e));
}

/** What this visit loaded (the page's files and the worker's), for the service worker to keep. */
function keep(workerUrls) {
  if (!serviceWorker || !window.isSecureContext) return;
  const urls = [...performance.getEntriesByType('resource').map((e) => e.name), ...(workerUrls || [])];
  serviceWorker.ready.then((registration) => registration.active && registration.active.postMessage({ t: 'keep', urls }));
}

async function main() {
  const base = new URL('.', location.href);
  const inline = document.getElementById('wave-lite-manifest');
  const manifest = inline
    ? JSON.parse(inline.textContent)
    : await (await fetch(new URL('lite.json', base), { cache: 'no-cache' })).json();
  pageMark('manifest');
  progress('Python', 0.02, 'starting');
  cacheWithServiceWorker();
  const worker = new Worker(new URL('worker.js', base), { type: 'module' });
  const relay = new MessageChannel();
  let loaded = [];
  worker.addEventListener('message', (event) => {
    const m = event.data || {};
    if (m.timings) window.waveLite.worker = m.timings;
    if (m.t === 'progress') progress(m.step, m.fraction, m.detail);
    else if (m.t === 'ready') {
      pageMark('python ready');
      progress('app', 0.95, 'starting');
      loaded = m.loaded;
    } else if (m.t === 'answered') {
      pageMark('answered');
      whenShown(m.frames, done);
      keep(loaded);
      setTimeout(() => keep(loaded), 3000); // and what the UI loaded since (its fonts, its lazy parts)
    } else if (m.t === 'reload') location.reload();
    else if (m.t === 'error') failed(m.text);
  });
  worker.addEventListener('error', (e) => failed(`Python could not start: ${e.message || 'the worker failed'}`));
  worker.postMessage({ t: 'start', manifest, base: base.href }, [relay.port2]);
  bridge.attach(relay.port1);
  whenPainted(() => {
    pageMark('first paint');
    worker.postMessage({ t: 'painted' });
  });
}

main().catch((e) => failed(`This site could not start: ${e.message}`));
