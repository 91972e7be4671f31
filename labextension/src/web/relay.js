// The page's end of a relayed Wave UI: the unchanged UI runs in a sandboxed frame (frame.js), and everything it
// sends and gets (its socket frames, its `_f/` requests, its files) goes through a Switchboard to a channel
// (switchboard.js). The frame's side is one MessagePort, handed to the frame's first document only: a page the frame
// navigates to (a link, a redirect) never has it, and the relay is then closed and the app's frame built again.

import FRAME_JS from '../../build-web/frame.txt';
import { HEARTBEAT_MS, Switchboard } from './switchboard.js';
import { openCache } from './uicache.js';

// The frame may open new tabs (external links do, as on the direct rung), and those tabs are ordinary pages.
export const SANDBOX =
  'allow-scripts allow-forms allow-popups allow-popups-to-escape-sandbox allow-downloads allow-modals';

/** The frame that shows an app, on any rung. */
export function appFrame(route) {
  const frame = document.createElement('iframe');
  frame.className = 'wave-jupyter-frame';
  frame.title = `Wave app ${route}`;
  frame.style.cssText = 'width:100%;height:100%;border:0;display:block';
  return frame;
}

/** A relayed app in `body`: the sandboxed frame, its port, the heartbeat, and closing its tabs with the page. */
export class Relay {
  /** `siteBase`: what a static site's UI manifest is relative to (a lite or JupyterLite site's base URL). */
  constructor(channel, body, route, onState, siteBase) {
    this.body = body;
    this.route = route;
    this.board = new Switchboard(channel, { onState, rebuild: () => this.build(), cache: openCache(), siteBase });
    this.onLeave = () => this.board.closeSockets(); // the page goes away: its tabs are gone
    window.addEventListener('pagehide', this.onLeave);
    this.beat = setInterval(() => this.board.beat(), HEARTBEAT_MS);
    this.build();
  }

  build() {
    this.board.detach();
    if (this.frame) this.frame.remove();
    const frame = (this.frame = appFrame(this.route));
    frame.setAttribute('sandbox', SANDBOX);
    const channel = new MessageChannel();
    let loads = 0;
    frame.addEventListener('load', () => {
      if (frame !== this.frame) return;
      if (++loads === 1) {
        this.board.attach(channel.port1);
        frame.contentWindow.postMessage({ t: 'port' }, '*', [channel.port2]);
      } else {
        this.build(); // the frame left the app: its relay is closed, the app's frame comes back
      }
    });
    frame.srcdoc = `<!doctype html><html><head><meta charset="utf-8"><script>${FRAME_JS}<` +
      '/script></head><body><div id="wave-root"></div></body></html>';
    this.body.append(frame);
  }

  destroy() {
    clearInterval(this.beat);
    window.removeEventListener('pagehide', this.onLeave);
    this.board.destroy();
    if (this.frame) this.frame.remove();
    this.frame = null;
  }
}
