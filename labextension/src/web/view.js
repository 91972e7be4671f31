// The live view of a Wave app in an output cell, delivered by the kernel (anywidget): it renders in JupyterLab,
// Notebook 7, VS Code, Colab and any other anywidget host, with no extension.
//
// Each view picks how its browser reaches the app, in order (the "ladder", ladder.js): the kernel's server on
// loopback, jupyter-server-proxy, or the widget's comm, which carries the whole unchanged Wave UI (relay.js, frame.js).
// `transport` ('auto', 'direct', 'proxy' or 'comm') pins a rung.

import { watchKernel } from './kernel.js';
import { httpRung, jupyterBase, rungOf } from './ladder.js';
import { Relay, appFrame } from './relay.js';
import { sizing } from './sizing.js';
import { toolbar } from './toolbar.js';

const KERNEL_GONE = 'Kernel restarted or dead: re-run the cell to start the app again';
const STOPPED = 'This app was stopped. Re-run the cell to start it again.';

/** The widget's comm as a relay channel. */
export const commChannel = (model) => ({
  send: (message, buffers) => model.send(message, undefined, buffers || []),
  listen: (handler) => {
    model.on('msg:custom', handler);
    return () => model.off('msg:custom', handler);
  },
});

function render({ model, el }) {
  el.classList.add('wave-jupyter-view');
  const bar = toolbar(el);
  const body = document.createElement('div');
  body.className = 'wave-jupyter-body';
  body.style.cssText = 'position:relative;width:100%';
  el.append(body);
  const unsize = sizing(model, el, body);

  let current = null; // the rung now showing: {destroy()}
  let where = null; // where the kernel says the app is served: {direct, proxy}
  let alive = true;

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
    bar.route(model.get('route'));
    if (model.get('status') === 'stopped') {
      bar.state('stopped');
      return message(STOPPED);
    }
    bar.state('connecting');
    const url = await httpRung(model.get('transport') || 'auto', where, location, jupyterBase(document));
    if (!alive) return;
    clear();
    if (url) {
      const frame = appFrame(model.get('route'));
      frame.src = url;
      frame.onload = () => bar.state('live');
      body.append(frame);
      current = { destroy: () => frame.remove() };
    } else {
      // A kernel with no UI files (JupyterLite) points at the site's: relative to the Jupyter base URL.
      const siteBase = new URL(jupyterBase(document) || './', document.baseURI).href;
      current = new Relay(commChannel(model), body, model.get('route'), bar.state, siteBase);
    }
    bar.rung(rungOf(url));
  };

  const unwatch = watchKernel(
    model,
    () => {
      alive = false;
      bar.state('gone');
      bar.waiting(false);
      message(KERNEL_GONE);
    },
    (busy, status) => {
      bar.waiting(busy);
      el.dataset.kernel = busy ? 'busy' : status;
    }
  );

  const onCustom = (m) => {
    if (m && m.t === 'where' && alive) {
      where = { direct: m.direct || '', proxy: m.proxy || '' };
      show();
    }
  };
  const showClients = () => bar.clients(Number(model.get('clients')) || 0);
  showClients();
  model.on('change:clients', showClients);
  model.on('msg:custom', onCustom);
  model.on('change:status', show);
  if (alive) bar.state('connecting');
  bar.route(model.get('route'));
  model.send({ t: 'hello' });

  return () => {
    alive = false;
    unwatch();
    unsize();
    model.off('msg:custom', onCustom);
    model.off('change:status', show);
    model.off('change:clients', showClients);
    clear();
  };
}

export default { render };
