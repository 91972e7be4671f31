/**
 * The front end of the `wave_jupyter.apps` comm for one notebook: the apps of the notebook's own kernel, kept up to
 * date across kernel changes and restarts, and the live views its preview panels ask the kernel for. Nothing is ever
 * executed in the kernel.
 *
 * The page opens the comm: the kernel lists a never-opened "beacon" comm of the target once wave_jupyter is active,
 * which a comm_info request sees. The page asks when it connects to a kernel and after every cell run until then.
 */
import { ISessionContext } from '@jupyterlab/apputils';
import { Kernel, KernelMessage } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { COMM_TARGET, IAppInfo, IWidgetView, KernelState, kernelState, newRoutes, parseApps, parseView } from './apps';

/** How long the kernel must stay busy before the previews say so (every comm message makes it busy briefly). */
const BUSY_DELAY_MS = 400;

export class AppsChannel implements IDisposable {
  constructor(readonly sessionContext: ISessionContext) {
    sessionContext.kernelChanged.connect(this._onKernelChanged, this);
    sessionContext.statusChanged.connect(this._onStatus, this);
    sessionContext.connectionStatusChanged.connect(this._onConnectionStatus, this);
    this._attach(sessionContext.session?.kernel ?? null);
    window.addEventListener('pagehide', this._onPageHide);
  }

  /** The apps the kernel runs now (empty until its first snapshot). */
  get apps(): readonly IAppInfo[] {
    return this._apps;
  }

  /** Whether a snapshot came from the current kernel. */
  get live(): boolean {
    return this._live;
  }

  /** The kernel's state, 'busy' only once it has been busy for a moment. */
  get state(): KernelState {
    return this._state;
  }

  /** The route started most recently (the default of a choice). */
  get latest(): string | undefined {
    return this._latest;
  }

  /** Emitted when the apps or the kernel state change. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted with the routes of apps that just started in this kernel (not those running when the page loaded). */
  get started(): ISignal<this, string[]> {
    return this._started;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** The app at `route`, if the kernel runs it now. */
  find(route: string): IAppInfo | undefined {
    return this._apps.find(a => a.route === route);
  }

  /** Whether `route` was running when the kernel last restarted or died, and has not come back since. */
  isLost(route: string): boolean {
    return this._lost.has(route);
  }

  /**
   * Asks the kernel for its snapshot again; without a comm, opens one if wave_jupyter is active in the kernel.
   * Resolves to whether a comm is open.
   */
  async refresh(): Promise<boolean> {
    if (this._comm && !this._comm.isDisposed) {
      try {
        this._comm.send({ t: 'refresh' });
        return true;
      } catch {
        this._comm = null;
      }
    }
    return this._probe();
  }

  /**
   * Asks the kernel for a new live view of the app at `route` (a WaveView widget, one Wave client), for a preview
   * panel. Resolves to the widget's view JSON, or null when the kernel has no such app (or no comm now).
   */
  async requestView(route: string): Promise<IWidgetView | null> {
    if (!(await this.refresh())) {
      return null;
    }
    const comm = this._comm;
    if (!comm) {
      return null;
    }
    const ref = `${Date.now().toString(36)}-${++this._refs}`;
    return new Promise<IWidgetView | null>(resolve => {
      this._views.set(ref, resolve);
      try {
        comm.send({ t: 'view', route, ref });
      } catch {
        this._views.delete(ref);
        resolve(null);
      }
    });
  }

  /** Tells the kernel a view from requestView is no longer shown, so it closes the widget and its Wave client. */
  releaseView(modelId: string): void {
    try {
      this._comm?.send({ t: 'unview', model_id: modelId });
    } catch {
      // The comm is gone, and the kernel closed the views with it.
    }
  }

  /**
   * Resolves once the current kernel sent a snapshot, or after `timeout` ms (then the apps stay as they are): a
   * command run right after the page loaded waits for the comm this way.
   */
  async whenLive(timeout = 2000): Promise<boolean> {
    if (this._live) {
      return true;
    }
    return new Promise<boolean>(resolve => {
      const done = (): void => {
        clearTimeout(timer);
        this._changed.disconnect(check);
        this._refused.disconnect(done);
        resolve(this._live);
      };
      const check = (): void => {
        if (this._live) {
          done();
        }
      };
      const timer = setTimeout(done, timeout);
      this._changed.connect(check);
      // A kernel without wave_jupyter (or a refused comm) answers at once: no app, no need to wait longer.
      this._refused.connect(done);
      void this.refresh().then(open => {
        if (!open) {
          done();
        }
      });
    });
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    clearTimeout(this._busyTimer);
    this._answerViews();
    window.removeEventListener('pagehide', this._onPageHide);
    this._closeOwnComm();
    this._detach();
    Signal.clearData(this);
  }

  private _onKernelChanged(
    _: ISessionContext,
    change: { oldValue: Kernel.IKernelConnection | null; newValue: Kernel.IKernelConnection | null }
  ): void {
    const old = change.oldValue;
    if (old && !old.isDisposed && old.status !== 'dead') {
      // Another kernel for this notebook: the old one may run on (another notebook's), so it stops sending here.
      this._closeOwnComm();
    }
    this._lose();
    this._attach(change.newValue);
  }

  private _onStatus(_: ISessionContext, status: Kernel.Status): void {
    if (status === 'restarting' || status === 'autorestarting' || status === 'dead') {
      this._lose();
    } else if (status === 'starting' && this._live) {
      // A new kernel process that no 'restarting' announced (e.g. restarted through the REST API).
      this._lose();
    }
    // A (re)started kernel has no wave_jupyter yet: it opens the comm itself when a cell imports it.
    this._setState(kernelState(status));
  }

  private _onConnectionStatus(_: ISessionContext, status: Kernel.ConnectionStatus): void {
    if (status === 'connected' && !this._comm) {
      // A page load or a reconnection: the kernel may have been running apps all along.
      void this._probe();
    }
  }

  private _setState(state: KernelState): void {
    clearTimeout(this._busyTimer);
    if (state === 'busy') {
      // 'busy' shows only when it lasts; the state before it stays meanwhile.
      this._busyTimer = setTimeout(() => this._emitState('busy'), BUSY_DELAY_MS);
      return;
    }
    this._emitState(state);
  }

  private _emitState(state: KernelState): void {
    if (this._disposed || state === this._state) {
      return;
    }
    this._state = state;
    this._changed.emit();
  }

  /** The kernel went away (restart, death, another kernel): its apps are gone. */
  private _lose(): void {
    for (const app of this._apps) {
      this._lost.add(app.route);
    }
    const changed = this._apps.length > 0 || this._live;
    this._apps = [];
    this._live = false;
    // Unknown until the next kernel speaks: a kernel that opens the comm itself has just activated wave_jupyter (all
    // its apps are new); a snapshot this side asked for (a page load, a reconnection) lists apps that were running.
    this._known = null;
    this._dropComm();
    this._answerViews();
    if (changed) {
      this._changed.emit();
    }
  }

  private _attach(kernel: Kernel.IKernelConnection | null): void {
    this._detach();
    this._kernel = kernel;
    if (!kernel) {
      this._setState('unknown');
      return;
    }
    // The kernel keeps its comm targets across restarts; registering again only replaces the callback. (Today's
    // kernel side never opens a comm; one that did would reach every page.)
    kernel.registerCommTarget(COMM_TARGET, this._onCommOpen);
    kernel.iopubMessage.connect(this._onIopub, this);
    this._setState(kernelState(kernel.status));
    void this._probe();
  }

  private _detach(): void {
    this._dropComm();
    const kernel = this._kernel;
    this._kernel = null;
    if (kernel && !kernel.isDisposed) {
      kernel.removeCommTarget(COMM_TARGET, this._onCommOpen);
      kernel.iopubMessage.disconnect(this._onIopub, this);
    }
  }

  /**
   * After a cell ran (the kernel idle again after an execute request), a kernel without our comm may have just
   * activated wave_jupyter: ask. Idle after other requests (our own comm_info among them) does not ask again.
   */
  private _onIopub(_: Kernel.IKernelConnection, msg: KernelMessage.IIOPubMessage): void {
    if (
      msg.header.msg_type === 'status' &&
      (msg as KernelMessage.IStatusMsg).content.execution_state === 'idle' &&
      (msg.parent_header as Partial<KernelMessage.IHeader>).msg_type === 'execute_request' &&
      !this._comm
    ) {
      void this._probe(true);
    }
  }

  /** Answers the views still asked for with null (no kernel to make them any more). */
  private _answerViews(): void {
    const waiting = [...this._views.values()];
    this._views.clear();
    waiting.forEach(resolve => resolve(null));
  }

  /**
   * Closes the comm this side opened, so the kernel stops sending to a page that is gone. A comm the kernel opened
   * is shared by every page of the kernel and stays open.
   */
  private _closeOwnComm(): void {
    const comm = this._comm;
    if (comm && this._ownComm && !comm.isDisposed) {
      this._dropComm();
      try {
        comm.close();
      } catch {
        // The kernel connection is already gone: nothing to tell.
      }
    }
  }

  private _onPageHide = (event: PageTransitionEvent): void => {
    if (!event.persisted) {
      this._closeOwnComm();
    }
  };

  private _dropComm(): void {
    const comm = this._comm;
    this._comm = null;
    if (comm && !comm.isDisposed) {
      comm.onMsg = () => undefined;
      comm.onClose = () => undefined;
    }
  }

  /**
   * Opens a comm from this side if wave_jupyter is active in the kernel, which a comm_info request tells without
   * running code, and without the kernel's "No such comm target" error that a refused comm_open would log.
   * Resolves to whether a comm is open.
   */
  private async _probe(afterRun = false): Promise<boolean> {
    const kernel = this._kernel;
    if (this._disposed || !kernel || kernel.isDisposed || kernel.connectionStatus !== 'connected' || !kernel.handleComms) {
      return false;
    }
    if (this._comm && !this._comm.isDisposed) {
      return true;
    }
    let active = false;
    try {
      const reply = await kernel.requestCommInfo({ target_name: COMM_TARGET });
      const comms = reply.content.status === 'ok' ? reply.content.comms : {};
      active = Object.values(comms).some(c => c.target_name === COMM_TARGET);
    } catch {
      return false;
    }
    if (!active || kernel !== this._kernel || this._disposed) {
      return false;
    }
    if (this._comm && !this._comm.isDisposed) {
      return true;
    }
    let comm: Kernel.IComm;
    try {
      comm = kernel.createComm(COMM_TARGET);
    } catch {
      return false;
    }
    // After a cell run, wave_jupyter has just activated: whatever it lists has just started.
    this._use(comm, afterRun);
    try {
      comm.open({});
    } catch {
      if (this._comm === comm) {
        this._comm = null;
      }
      return false;
    }
    return true;
  }

  /** The kernel opened a comm (wave_jupyter just activated there): its data is the first snapshot. */
  private _onCommOpen = (comm: Kernel.IComm, msg: KernelMessage.ICommOpenMsg): void => {
    if (this._disposed || this._kernel === null) {
      comm.close();
      return;
    }
    // The kernel's comm reaches every page: one this page opened is no longer needed.
    this._closeOwnComm();
    this._dropComm();
    this._use(comm, true, true);
    this._receive(msg.content.data, true);
  };

  private _use(comm: Kernel.IComm, justActivated: boolean, openedByKernel = false): void {
    this._comm = comm;
    this._ownComm = !openedByKernel;
    comm.onMsg = msg => {
      if (this._comm === comm) {
        this._receive(msg.content.data, justActivated);
      }
    };
    comm.onClose = () => {
      // Refused (no wave_jupyter in the kernel yet) or closed: quietly wait for the kernel to open one.
      if (this._comm === comm) {
        this._comm = null;
        this._refused.emit();
      }
    };
  }

  private _receive(data: unknown, justActivated: boolean): void {
    const view = parseView(data);
    if (view) {
      const resolve = this._views.get(view.ref);
      this._views.delete(view.ref);
      resolve?.(view.view);
      return;
    }
    const apps = parseApps(data);
    if (apps === null || this._disposed) {
      return;
    }
    if (this._known === null && justActivated) {
      // wave_jupyter activated just now: whatever it lists has just started.
      this._known = new Set();
    }
    const started = newRoutes(this._known, apps);
    this._known = new Set(apps.map(a => a.route));
    for (const app of apps) {
      this._lost.delete(app.route);
    }
    if (started.length) {
      this._latest = started[started.length - 1];
    }
    this._apps = apps;
    this._live = true;
    this._changed.emit();
    if (started.length) {
      this._started.emit(started);
    }
  }

  private _kernel: Kernel.IKernelConnection | null = null;
  private _comm: Kernel.IComm | null = null;
  private _ownComm = false;
  private _apps: IAppInfo[] = [];
  private _live = false;
  private _known: Set<string> | null = null;
  private _lost = new Set<string>();
  private _latest: string | undefined;
  private _state: KernelState = 'unknown';
  private _busyTimer: ReturnType<typeof setTimeout> | undefined;
  private _disposed = false;
  private _changed = new Signal<this, void>(this);
  private _started = new Signal<this, string[]>(this);
  private _refused = new Signal<this, void>(this);
  private _views = new Map<string, (view: IWidgetView | null) => void>();
  private _refs = 0;
}
