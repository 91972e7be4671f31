/**
 * The front end of `wave_jupyter.jupyter.widget.WaveView`: a Wave app in an output cell, in an iframe.
 */
import { DOMWidgetModel, DOMWidgetView, ISerializers } from '@jupyter-widgets/base';
import { PageConfig } from '@jupyterlab/coreutils';

import { appUrl, UrlMode } from './url';
import { MODULE_NAME, MODULE_VERSION } from './version';

export const STOPPED_MESSAGE = 'This app was stopped. Re-run the cell to start it again.';
export const KERNEL_GONE_MESSAGE = 'Kernel restarted or dead: re-run the cell to start the app again';
export const CONNECTING_MESSAGE = 'Connecting to the kernel\u2026';

/** The few members of a Lumino signal this view uses. */
interface ISignalLike<T> {
  connect(slot: (sender: unknown, value: T) => void, thisArg?: unknown): boolean;
  disconnect(slot: (sender: unknown, value: T) => void, thisArg?: unknown): boolean;
}

/** What JupyterLab's and Notebook 7's widget manager exposes of its kernel (absent elsewhere, e.g. Voilà). */
interface IKernelLike {
  status?: string;
  connectionStatus?: string;
  statusChanged?: ISignalLike<string>;
  connectionStatusChanged?: ISignalLike<string>;
}

// 'starting' after the view exists means a new kernel process: a restart not seen as 'restarting' (e.g. through the REST API).
const DEAD_STATUSES = new Set(['dead', 'restarting', 'autorestarting', 'starting']);

export class WaveViewModel extends DOMWidgetModel {
  defaults(): Backbone.ObjectHash {
    return {
      ...super.defaults(),
      _model_name: WaveViewModel.model_name,
      _model_module: WaveViewModel.model_module,
      _model_module_version: WaveViewModel.model_module_version,
      _view_name: WaveViewModel.view_name,
      _view_module: WaveViewModel.view_module,
      _view_module_version: WaveViewModel.view_module_version,
      port: 0,
      route: '/',
      height: 400,
      url_mode: 'auto',
      status: 'running'
    };
  }

  /**
   * The server's secret. Not a synced trait, so it never lands in saved widget state: the model asks the kernel for
   * it over the widget's comm and keeps it in memory.
   */
  token = '';

  initialize(attributes: Backbone.ObjectHash, options: any): void {
    super.initialize(attributes, options);
    this.on('msg:custom', this._onCustom, this);
    if (this.comm_live) {
      this.send({ type: 'hello' }, {});
    }
  }

  private _onCustom(content: { type?: string; token?: unknown }): void {
    if (content?.type === 'secret' && typeof content.token === 'string') {
      this.token = content.token;
      this.trigger('wave:token');
    }
  }

  static serializers: ISerializers = { ...DOMWidgetModel.serializers };

  static model_name = 'WaveViewModel';
  static model_module = MODULE_NAME;
  static model_module_version = MODULE_VERSION;
  static view_name = 'WaveView';
  static view_module = MODULE_NAME;
  static view_module_version = MODULE_VERSION;
}

export class WaveView extends DOMWidgetView {
  private _toolbar!: HTMLDivElement;
  private _routeLabel!: HTMLSpanElement;
  private _openLink!: HTMLAnchorElement;
  private _body!: HTMLDivElement;
  private _frame: HTMLIFrameElement | null = null;
  private _message: HTMLDivElement | null = null;
  private _kernel: IKernelLike | null = null;
  private _kernelGone = false;

  render(): void {
    this.el.classList.add('wave-jupyter-view');

    this._toolbar = document.createElement('div');
    this._toolbar.className = 'wave-jupyter-toolbar';
    this._routeLabel = document.createElement('span');
    this._routeLabel.className = 'wave-jupyter-route';
    const reload = document.createElement('button');
    reload.className = 'wave-jupyter-reload';
    reload.type = 'button';
    reload.textContent = '\u21bb Reload';
    reload.title = 'Reload the app';
    reload.addEventListener('click', () => this._reload());
    this._openLink = document.createElement('a');
    this._openLink.className = 'wave-jupyter-open';
    this._openLink.target = '_blank';
    this._openLink.rel = 'noopener';
    this._openLink.textContent = 'Open in new tab \u2197';
    this._toolbar.append(this._routeLabel, reload, this._openLink);

    this._body = document.createElement('div');
    this._body.className = 'wave-jupyter-body';

    this.el.append(this._toolbar, this._body);

    this.listenTo(this.model, 'change:port change:route change:url_mode wave:token', this._update);
    this.listenTo(this.model, 'change:height', this._updateHeight);
    this.listenTo(this.model, 'change:status', this._update);
    this.listenTo(this.model, 'comm_live_update', this._onCommLive);
    this._updateHeight();
    this._onCommLive();
    this._watchKernel();
    this._update();
  }

  remove(): void {
    this._unwatchKernel();
    return super.remove();
  }

  /** The app's URL as the browser must load it. */
  get url(): string {
    return appUrl(
      window.location,
      PageConfig.getBaseUrl(),
      this.model.get('port'),
      this.model.get('route'),
      (this.model as WaveViewModel).token,
      (this.model.get('url_mode') || 'auto') as UrlMode
    );
  }

  private _update(): void {
    const route: string = this.model.get('route');
    const url = this.url;
    this._routeLabel.textContent = route;
    this._openLink.href = url;
    const stopped = this.model.get('status') === 'stopped';
    this.el.classList.toggle('wave-jupyter-stopped', stopped);
    if (this._kernelGone || stopped || !url) {
      // No frozen (or forever reconnecting) frame: the app is gone, or the kernel has not yet said where it is.
      this._removeFrame();
      this._showMessage(this._kernelGone ? KERNEL_GONE_MESSAGE : stopped ? STOPPED_MESSAGE : CONNECTING_MESSAGE);
      return;
    }
    this._hideMessage();
    if (!this._frame) {
      this._frame = document.createElement('iframe');
      this._frame.className = 'wave-jupyter-frame';
      this._frame.title = `Wave app ${route}`;
      this._body.appendChild(this._frame);
    }
    if (this._frame.getAttribute('src') !== url) {
      this._frame.src = url;
    }
  }

  private _updateHeight(): void {
    const height = Number(this.model.get('height')) || 400;
    this._body.style.height = `${height}px`;
  }

  private _reload(): void {
    if (this._frame) {
      this._frame.src = this.url;
    }
  }

  private _removeFrame(): void {
    if (this._frame) {
      this._frame.remove();
      this._frame = null;
    }
  }

  private _showMessage(text: string): void {
    if (!this._message) {
      this._message = document.createElement('div');
      this._message.className = 'wave-jupyter-message';
      this._body.appendChild(this._message);
    }
    this._message.textContent = text;
  }

  private _hideMessage(): void {
    if (this._message) {
      this._message.remove();
      this._message = null;
    }
  }

  /** The kernel is gone and the app with it: say so in place of the frame (for good: a new run makes a new view). */
  private _markKernelGone(): void {
    if (this._kernelGone) {
      return;
    }
    this._kernelGone = true;
    this.el.classList.add('wave-jupyter-kernel-gone');
    if (this._body) {
      this._update();
    }
  }

  private _onCommLive(): void {
    // A model without a live comm: restored from saved widget state, or its kernel restarted.
    if (!this.model.comm_live) {
      this._markKernelGone();
    }
  }

  private _onKernelStatus(_: unknown, status: string): void {
    if (DEAD_STATUSES.has(status)) {
      this._markKernelGone();
    }
  }

  private _onConnectionStatus(_: unknown, status: string): void {
    if (status === 'disconnected') {
      this._markKernelGone();
    }
  }

  private _watchKernel(): void {
    const manager = this.model.widget_manager as unknown as { kernel?: IKernelLike | null } | undefined;
    const kernel = manager?.kernel;
    if (!kernel) {
      return;
    }
    this._kernel = kernel;
    kernel.statusChanged?.connect(this._onKernelStatus, this);
    kernel.connectionStatusChanged?.connect(this._onConnectionStatus, this);
    if (kernel.status && DEAD_STATUSES.has(kernel.status)) {
      this._markKernelGone();
    }
  }

  private _unwatchKernel(): void {
    const kernel = this._kernel;
    if (kernel) {
      kernel.statusChanged?.disconnect(this._onKernelStatus, this);
      kernel.connectionStatusChanged?.disconnect(this._onConnectionStatus, this);
      this._kernel = null;
    }
  }
}
