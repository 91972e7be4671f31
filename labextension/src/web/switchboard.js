// Who gets what between a relayed Wave UI and its channel (no DOM here, so node's test runner can test it).
//
// A channel is `{ send(message, buffers), listen(handler) -> unlisten }`: the widget's comm to the kernel in a
// notebook (view.js), or the site's Python worker in a lite site (lite/page.js); what it carries is commlink.py's
// protocol. The frame's side is one MessagePort (relay.js hands it to the frame's first document only).

import { siteFiles, siteManifest } from './siteui.js';
import { cachedBundle, keepBundle } from './uicache.js';

// A view's heartbeat while it has sockets: the kernel closes them after long silence (commlink.py).
export const HEARTBEAT_MS = 20000;

export function toArrayBuffer(buffer) {
  if (buffer instanceof ArrayBuffer) return buffer;
  if (ArrayBuffer.isView(buffer)) return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
  return new ArrayBuffer(0);
}

/**
 * Who gets what: messages of the frame (on its port) to the channel, the channel's to the frame. No DOM here.
 * `hooks`: `onState(state)` ('loading', 'live', 'reconnecting'), `rebuild()` (the kernel asked for a reload),
 * `cache` (a promise of the UI cache's database, or null), `siteBase` (what a `site` UI manifest is relative to).
 */
export class Switchboard {
  constructor(channel, hooks) {
    this.channel = channel;
    this.hooks = hooks;
    this.sockets = new Set();
    this.waiting = null;
    this.port = null;
    this.unlisten = channel.listen((message, buffers) => this.fromChannel(message || {}, buffers || []));
  }

  attach(port) {
    this.detach();
    this.port = port;
    port.onmessage = (event) => this.fromFrame(event.data || {});
  }

  detach() {
    this.closeSockets();
    if (this.port) this.port.close();
    this.port = null;
  }

  send(message, buffers) {
    this.channel.send(message, buffers || []);
  }

  toFrame(message, transfer) {
    if (!this.port) return;
    try {
      this.port.postMessage(message, transfer || []);
    } catch (e) {
      this.port.postMessage(message); // a buffer that cannot move is copied
    }
  }

  fromFrame(m) {
    if (m.t === 'boot') {
      this.hooks.onState('loading');
      this.send({ t: 'boot' });
    } else if (m.t === 'open') {
      this.sockets.add(m.sid);
      this.toFrame({ t: 'opened', sid: m.sid });
      this.send(m);
      this.hooks.onState('live');
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

  async fromChannel(m, buffers) {
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
      if (!this.sockets.size) this.hooks.onState('reconnecting'); // the UI opens a new socket at once
    } else if (m.t === 'reload') {
      this.hooks.rebuild();
    } else if (m.t === 'http') {
      const body = toArrayBuffer(buffers[0] || new ArrayBuffer(0));
      this.toFrame({ ...m, body }, [body]);
    }
  }

  async loadUi(message) {
    // From a static site (a lite site, JupyterLite: no UI files in the kernel), or from the channel.
    const site = message.site ? await siteManifest(message.site, this.hooks.siteBase || location.href) : null;
    const ui = site || message;
    const db = await this.hooks.cache;
    const bundle = await cachedBundle(db, ui.version);
    const have = new Map(bundle ? bundle.names.map((n, i) => [n, bundle.buffers[i]]) : []);
    const files = [];
    const missing = [];
    for (const name of ui.names) (have.has(name) ? files.push([name, have.get(name)]) : missing.push(name));
    if (missing.length) {
      const got = site ? await siteFiles(site, missing) : await new Promise((resolve) => {
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

  beat() {
    if (this.sockets.size) this.send({ t: 'beat' });
  }

  closeSockets() {
    for (const sid of this.sockets) this.send({ t: 'close', sid });
    this.sockets.clear();
  }

  destroy() {
    this.detach();
    this.unlisten();
  }
}
