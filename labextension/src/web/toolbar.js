// The view's status line: the route, its state, the rung, the app's client count, and a note while a running cell
// holds clicks back. Each part is a span whose state is also in the view's data attributes (for tests and styles).

export const STATES = {
  connecting: 'connecting\u2026',
  loading: 'loading the UI\u2026',
  live: 'live',
  reconnecting: 'reconnecting\u2026',
  stopped: 'stopped',
  gone: 'kernel dead or restarted',
};

export const clientsText = (n) => (n === 1 ? '1 client' : `${n} clients`);

export function toolbar(el) {
  const bar = document.createElement('div');
  bar.className = 'wave-jupyter-toolbar';
  bar.style.cssText = 'display:flex;gap:.75em;align-items:center;font:12px var(--jp-ui-font-family,sans-serif);padding:2px 4px';
  const span = (name, style) => {
    const node = document.createElement(name === 'route' ? 'code' : 'span');
    node.className = `wave-jupyter-${name}`;
    if (style) node.style.cssText = style;
    return node;
  };
  const route = span('route');
  const state = span('state');
  const rung = span('rung', 'opacity:.7');
  const clients = span('clients', 'opacity:.7');
  const waiting = span('waiting', 'color:var(--jp-warn-color1,#b26a00)');
  bar.append(route, state, rung, clients, waiting);
  el.append(bar);
  return {
    route: (text) => (route.textContent = text),
    state: (s) => {
      state.textContent = STATES[s] || s;
      el.dataset.state = s;
    },
    rung: (kind) => {
      rung.textContent = `via ${kind}`;
      el.dataset.rung = kind;
    },
    clients: (n) => {
      clients.textContent = clientsText(n);
      el.dataset.clients = String(n);
    },
    waiting: (busy) => (waiting.textContent = busy ? 'a cell is running: clicks wait for it' : ''),
  };
}
