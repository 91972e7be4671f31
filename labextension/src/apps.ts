/**
 * The kernel's list of Wave apps as the `wave_jupyter.apps` comm sends it, and the pure decisions of the preview
 * panel: which app to show, which apps are new, and what the panel shows for a kernel state.
 *
 * No JupyterLab imports here, so node's test runner can test it as is.
 */

/** One app of the kernel, as `wave_jupyter/jupyter/comm.py` describes it. */
export interface IAppInfo {
  route: string;
  mode: string;
  port: number;
  /** Where the kernel says a browser finds the app (both hold the server's secret; '' without a port):
   * `direct`, an absolute URL on 127.0.0.1; `proxy`, a path relative to the Jupyter base URL. */
  direct: string;
  proxy: string;
  height: number;
  /** Incremented on every hot swap of the handler: the preview reloads then. */
  generation: number;
  clients: number;
  /** Which app object this is: a new one (the app started again) needs a new view. */
  instance: string;
}

/** A widget view of the kernel (`application/vnd.jupyter.widget-view+json`), as a notebook output holds one. */
export interface IWidgetView {
  model_id: string;
  version_major: number;
  version_minor: number;
}

export const WIDGET_VIEW_MIME = 'application/vnd.jupyter.widget-view+json';

/** The comm's target name, the same on both ends. */
export const COMM_TARGET = 'wave_jupyter.apps';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The apps of an `{"t": "apps", "apps": [...]}` message, or null for any other message.
 *
 * Malformed entries (no route, no port) are dropped rather than trusted.
 */
export function parseApps(data: unknown): IAppInfo[] | null {
  if (!isObject(data) || data.t !== 'apps' || !Array.isArray(data.apps)) {
    return null;
  }
  const apps: IAppInfo[] = [];
  for (const entry of data.apps) {
    if (!isObject(entry) || typeof entry.route !== 'string' || !Number.isInteger(entry.port)) {
      continue;
    }
    apps.push({
      route: entry.route,
      mode: typeof entry.mode === 'string' ? entry.mode : 'unicast',
      port: entry.port as number,
      direct: typeof entry.direct === 'string' ? entry.direct : '',
      proxy: typeof entry.proxy === 'string' ? entry.proxy : '',
      height: typeof entry.height === 'number' ? entry.height : 400,
      generation: typeof entry.generation === 'number' ? entry.generation : 0,
      clients: typeof entry.clients === 'number' ? entry.clients : 0,
      instance: typeof entry.instance === 'string' ? entry.instance : `${entry.port}${entry.route}`
    });
  }
  return apps;
}

/**
 * The answer to a `{"t": "view"}` request: `{"t": "view", "ref", "view": {model_id, ...}}` (view null when the
 * kernel has no such app), or null for any other message.
 */
export function parseView(data: unknown): { ref: string; view: IWidgetView | null } | null {
  if (!isObject(data) || data.t !== 'view' || typeof data.ref !== 'string') {
    return null;
  }
  const view = data.view;
  const ok = isObject(view) && typeof view.model_id === 'string' && view.model_id !== '';
  return {
    ref: data.ref,
    view: ok
      ? {
          model_id: view.model_id as string,
          version_major: Number(view.version_major) || 2,
          version_minor: Number(view.version_minor) || 0
        }
      : null
  };
}

/** The outcome of picking an app for a command. */
export type Pick =
  | { kind: 'app'; app: IAppInfo }
  | { kind: 'choose'; routes: string[] }
  | { kind: 'none'; reason: string };

/**
 * Which app a command acts on.
 *
 * A route that was asked for wins (and must exist); a kernel with one app needs no question; with several the user
 * chooses, the routes sorted with `preferred` (e.g. the most recently started one) first.
 */
export function pickApp(apps: readonly IAppInfo[], route?: string, preferred?: string): Pick {
  if (route) {
    const app = apps.find(a => a.route === route);
    return app ? { kind: 'app', app } : { kind: 'none', reason: `The kernel runs no Wave app at ${route}.` };
  }
  if (apps.length === 0) {
    return { kind: 'none', reason: 'The kernel runs no Wave app yet: run the cell that starts one (listen or @app).' };
  }
  if (apps.length === 1) {
    return { kind: 'app', app: apps[0] };
  }
  const routes = apps.map(a => a.route).sort();
  if (preferred && routes.includes(preferred)) {
    routes.splice(routes.indexOf(preferred), 1);
    routes.unshift(preferred);
  }
  return { kind: 'choose', routes };
}

/**
 * The routes in `apps` that `known` did not have: the apps that just started.
 *
 * `known` null means nothing was known before (the first snapshot after connecting to a running kernel): those apps
 * were already running, not started now.
 */
export function newRoutes(known: ReadonlySet<string> | null, apps: readonly IAppInfo[]): string[] {
  if (known === null) {
    return [];
  }
  return apps.map(a => a.route).filter(r => !known.has(r));
}

/** What the kernel behind a preview is doing, as the panel needs to know it. */
export type KernelState =
  /** No kernel (yet), or it is being started for the first time. */
  | 'unknown'
  | 'idle'
  | 'busy'
  /** Restarting or started again: the apps of the old process are gone. */
  | 'restarting'
  | 'dead';

/** Maps a JupyterLab kernel status (`ISessionContext.kernelDisplayStatus` / `Kernel.Status`) to a KernelState. */
export function kernelState(status: string | undefined | null): KernelState {
  switch (status) {
    case 'idle':
      return 'idle';
    case 'busy':
      return 'busy';
    case 'restarting':
    case 'autorestarting':
      return 'restarting';
    case 'dead':
    case 'terminating':
    case 'disconnected':
      return 'dead';
    default:
      return 'unknown';
  }
}

/** What the preview panel shows. */
export interface IPreviewView {
  /** The app is there: show (and keep) the frame. */
  frame: boolean;
  /** The text shown in place of the frame (empty with a frame). */
  message: string;
  /** Whether the text is a warning (kernel dead or restarted). */
  warn: boolean;
  /** The short status shown in the panel's toolbar. */
  status: string;
}

/**
 * What the preview of `route` shows, from the kernel's state, the app (if the kernel has it now) and whether the
 * kernel was restarted (or died) since the app was last seen.
 */
export function previewView(route: string, state: KernelState, app: IAppInfo | undefined, lost: boolean): IPreviewView {
  if (state === 'dead') {
    return {
      frame: false,
      warn: true,
      status: 'kernel dead',
      message: `The kernel is dead, and ${route} with it. Restart the kernel and re-run the cell that starts the app.`
    };
  }
  if (state === 'restarting') {
    return {
      frame: false,
      warn: true,
      status: 'kernel restarting',
      message: `The kernel is restarting: ${route} stopped with it. Re-run the cell that starts the app.`
    };
  }
  if (app) {
    return { frame: true, warn: false, message: '', status: state === 'busy' ? 'kernel busy' : 'live' };
  }
  if (lost) {
    return {
      frame: false,
      warn: true,
      status: 'kernel restarted',
      message: `The kernel was restarted: ${route} is gone. Re-run the cell that starts the app.`
    };
  }
  return {
    frame: false,
    warn: false,
    status: state === 'busy' ? 'kernel busy' : 'not running',
    message: `${route} is not running in this notebook's kernel. Run (or re-run) the cell that starts it.`
  };
}
