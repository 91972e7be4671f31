/**
 * The preview panel: one app of a notebook's kernel beside the notebook, live while cells run, and replaced by a
 * message saying what the kernel does when the app is not there.
 *
 * The panel shows the same kernel-delivered view as an output cell (a WaveView widget the kernel makes on request,
 * rendered with the notebook's own widget renderer), so it reaches the app on the same ladder: loopback, then
 * jupyter-server-proxy, then the comm, which also works with a remote kernel. Without a widget manager in this page
 * it falls back to an iframe on the app's URL.
 */
import { MainAreaWidget, Toolbar, ToolbarButton } from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { IRenderMime, IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { launchIcon, LabIcon, refreshIcon } from '@jupyterlab/ui-components';
import { PanelLayout, Widget } from '@lumino/widgets';

import { IAppInfo, IWidgetView, previewView, WIDGET_VIEW_MIME } from './apps';
import { AppsChannel } from './channel';
import { appUrl } from './url';

const WAVE_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
  '<path class="jp-icon3" fill="#616161" d="M2 14c2.5 0 2.5-6 5-6s2.5 8 5 8 2.5-10 5-10 2.5 8 5 8v2c-3.5 0-4-6.3-5-6.3' +
  'S14.5 18 12 18s-3-7.5-5-7.5S5 16 2 16z"/></svg>';

export const waveIcon = new LabIcon({ name: 'wave-jupyter:wave', svgstr: WAVE_SVG });

/** The browser's URL of `app` (direct loopback locally, jupyter-server-proxy elsewhere). */
export function browserUrl(app: IAppInfo): string {
  return appUrl(window.location, PageConfig.getBaseUrl(), app, 'auto');
}

/** Whether `rendermime` renders kernel widgets (the notebook has a widget manager). */
function rendersWidgets(rendermime: IRenderMimeRegistry | null): boolean {
  return !!rendermime && rendermime.preferredMimeType({ [WIDGET_VIEW_MIME]: {} }, 'any') === WIDGET_VIEW_MIME;
}

/** The content of a preview panel. */
export class AppPreview extends Widget {
  constructor(
    readonly channel: AppsChannel,
    readonly route: string,
    readonly rendermime: IRenderMimeRegistry | null = null
  ) {
    super();
    this.layout = new PanelLayout();
    this.addClass('wave-jupyter-preview');
    this._message = document.createElement('div');
    this._message.className = 'wave-jupyter-preview-message';
    this.node.appendChild(this._message);
    channel.changed.connect(this.sync, this);
    this.sync();
  }

  /** The frame, when the app is shown in the fallback iframe. */
  get frame(): HTMLIFrameElement | null {
    return this._frame;
  }

  /** The kernel's view of the app, when the panel shows one. */
  get view(): IWidgetView | null {
    return this._view?.view ?? null;
  }

  /** The short kernel/app status, for the panel's toolbar. */
  get status(): string {
    return this._status;
  }

  /** Loads the app again (a new view: a new Wave client). */
  reload(): void {
    void this.channel.refresh();
    const app = this.channel.find(this.route);
    if (this._frame && app) {
      this._frame.src = browserUrl(app);
    }
    if (this._view) {
      this._dropView();
      this.sync();
    }
  }

  /** Opens the app in a new browser tab (only an app with a port can be). */
  openInBrowser(): void {
    const app = this.channel.find(this.route);
    if (app && app.port) {
      window.open(browserUrl(app), '_blank', 'noopener');
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.channel.changed.disconnect(this.sync, this);
    this._dropView();
    super.dispose();
  }

  /** Shows the frame or the message that fits the kernel and the app now. */
  sync(): void {
    if (this.isDisposed) {
      return;
    }
    const app = this.channel.find(this.route);
    const view = previewView(this.route, this.channel.state, app, this.channel.isLost(this.route));
    this._status = view.status;
    this.node.dataset.status = view.status;
    this.onStatus?.(view.status);
    this.toggleClass('wave-jupyter-preview-warn', view.warn);
    if (!view.frame || !app) {
      // No frozen or endlessly reconnecting frame: the app is not there.
      this._frame?.remove();
      this._frame = null;
      this._dropView();
      this._message.textContent = view.message;
      this._message.hidden = false;
      return;
    }
    this._message.hidden = true;
    this.node.dataset.generation = String(app.generation);
    if (rendersWidgets(this.rendermime)) {
      this._showView(app);
      return;
    }
    const url = browserUrl(app);
    if (!this._frame) {
      this._frame = document.createElement('iframe');
      this._frame.className = 'wave-jupyter-preview-frame';
      this._frame.title = `Wave app ${this.route}`;
      this._frame.src = url;
      this.node.appendChild(this._frame);
    } else if (this._frame.getAttribute('src') !== url) {
      // Another server (the app started again): load the app afresh. A hot swap needs no reload: the kernel
      // re-runs the new handler for every open view, keeping its q.client.
      this._frame.src = url;
    }
    this._frame.dataset.generation = String(app.generation);
  }

  /** Called with the status whenever it is computed (the panel's toolbar label). */
  onStatus: ((status: string) => void) | null = null;

  /** Shows the kernel's view of `app`, asking for one unless the panel has one of this app object already. */
  private _showView(app: IAppInfo): void {
    if (this._view?.instance === app.instance) {
      return;
    }
    this._dropView();
    const shown: IShownView = { instance: app.instance, view: null, renderer: null };
    this._view = shown;
    void this.channel.requestView(this.route).then(async view => {
      if (this._view !== shown || this.isDisposed) {
        if (view) {
          this.channel.releaseView(view.model_id); // asked for by a panel that moved on meanwhile
        }
        return;
      }
      if (!view) {
        this._view = null; // the app went away meanwhile: the next snapshot says what to show
        return;
      }
      shown.view = view;
      this.node.dataset.view = view.model_id;
      const renderer = this.rendermime!.createRenderer(WIDGET_VIEW_MIME);
      renderer.addClass('wave-jupyter-preview-view');
      shown.renderer = renderer;
      (this.layout as PanelLayout).addWidget(renderer);
      await renderer.renderModel(new MimeModel({ data: { [WIDGET_VIEW_MIME]: { ...view } } }));
    });
  }

  private _dropView(): void {
    const shown = this._view;
    this._view = null;
    if (shown) {
      shown.renderer?.dispose();
      if (shown.view) {
        this.channel.releaseView(shown.view.model_id);
      }
    }
  }

  private _message: HTMLDivElement;
  private _frame: HTMLIFrameElement | null = null;
  private _view: IShownView | null = null;
  private _status = '';
}

/** The kernel view a panel shows, from the request on. */
interface IShownView {
  instance: string;
  view: IWidgetView | null;
  renderer: IRenderMime.IRenderer | null;
}

/** The panel around an AppPreview: a toolbar with the route, the status, reload and open-in-a-tab. */
export class AppPreviewPanel extends MainAreaWidget<AppPreview> {
  constructor(channel: AppsChannel, route: string, notebookName: string, rendermime: IRenderMimeRegistry | null = null) {
    const content = new AppPreview(channel, route, rendermime);
    super({ content });
    this.addClass('wave-jupyter-preview-panel');
    this.title.label = `Wave ${route}`;
    this.title.caption = `Wave app ${route} of ${notebookName}`;
    this.title.icon = waveIcon;
    this.title.closable = true;

    const label = new Widget();
    label.addClass('wave-jupyter-preview-route');
    label.node.textContent = `${route} \u00b7 ${notebookName}`;
    const status = new Widget();
    status.addClass('wave-jupyter-preview-status');
    content.onStatus = text => {
      status.node.textContent = text;
      status.node.dataset.status = text;
    };
    status.node.textContent = content.status;
    status.node.dataset.status = content.status;

    this.toolbar.addItem('wave-route', label);
    this.toolbar.addItem('wave-spacer', Toolbar.createSpacerItem());
    this.toolbar.addItem('wave-status', status);
    this.toolbar.addItem(
      'wave-reload',
      new ToolbarButton({
        icon: refreshIcon,
        tooltip: 'Reload the app',
        className: 'wave-jupyter-preview-reload',
        onClick: () => content.reload()
      })
    );
    this.toolbar.addItem(
      'wave-open',
      new ToolbarButton({
        icon: launchIcon,
        tooltip: 'Open the app in a browser tab',
        className: 'wave-jupyter-preview-open',
        onClick: () => content.openInBrowser()
      })
    );
  }
}
