/**
 * The preview commands, their palette entries and the notebook toolbar button, and the bookkeeping behind them:
 * one AppsChannel per open notebook, the open preview panels, and the automatic preview when an app starts.
 */
import { ILabShell, ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import {
  ICommandPalette,
  InputDialog,
  ISessionContext,
  IToolbarWidgetRegistry,
  Notification,
  ToolbarButton,
  WidgetTracker
} from '@jupyterlab/apputils';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { IStateDB } from '@jupyterlab/statedb';
import { DisposableDelegate } from '@lumino/disposable';
import { Signal } from '@lumino/signaling';
import { DockPanel, Widget } from '@lumino/widgets';

import { IAppInfo, pickApp } from './apps';
import { AppsChannel } from './channel';
import { AppPreviewPanel, browserUrl, waveIcon } from './preview';
import { IWaveJupyterSettings, PreviewPosition } from './settings';

/** The command ids; each takes optional `route` (skip the choice) and, for the panel, `position` arguments. */
export const CommandIDs = {
  openPreview: 'wave-jupyter:open-preview',
  openInBrowser: 'wave-jupyter:open-in-browser',
  reloadPreview: 'wave-jupyter:reload-preview',
  /** Used by the layout restorer after a page load, with `path` (the notebook's) and `route`. */
  restorePreview: 'wave-jupyter:restore-preview'
};

/** The namespace of the saved previews (the layout restorer's keys are `<namespace>:<path>:<route>`). */
const TRACKER_NAMESPACE = 'wave-jupyter-preview';

/** How long a preview restored after a page load waits for its notebook to open. */
const NOTEBOOK_WAIT_MS = 30_000;

/** How long it waits for the kernel's first answer (a cell running at page load holds the answer back). */
const KERNEL_WAIT_MS = 10 * 60_000;

/** The notebook toolbar item's name (see `jupyter.lab.toolbars` in schema/plugin.json). */
export const TOOLBAR_ITEM = 'wave-preview';

const NOTEBOOK_FACTORY = 'Notebook';
const POSITIONS: PreviewPosition[] = ['split-right', 'split-bottom', 'tab'];

/** Brings `widget`'s tab to the front of its tab bar without moving the focus (an automatic preview must not take
 * the keyboard from the notebook whose cell just ran). */
function showTab(widget: Widget): void {
  let dock: Widget | null = widget.parent;
  while (dock && !(dock instanceof DockPanel)) {
    dock = dock.parent;
  }
  if (dock instanceof DockPanel) {
    for (const bar of dock.tabBars()) {
      if (bar.titles.includes(widget.title)) {
        bar.currentTitle = widget.title;
      }
    }
  }
}

/** A notebook (any document widget with a kernel session) and the channel to its kernel's apps. */
interface ITarget {
  widget: Widget;
  sessionContext: ISessionContext;
  channel: AppsChannel;
}

interface IOptions {
  palette: ICommandPalette | null;
  toolbarRegistry: IToolbarWidgetRegistry | null;
  labShell: ILabShell | null;
  restorer?: ILayoutRestorer | null;
  state?: IStateDB | null;
}

export class PreviewManager {
  constructor(
    private readonly _app: JupyterFrontEnd,
    private readonly _settings: IWaveJupyterSettings,
    options: IOptions
  ) {
    this._labShell = options.labShell;
    this._state = options.state ?? null;
    this._addCommands(options.palette);
    if (options.restorer) {
      // The open previews come back after a page load, once their notebook's kernel lists the app again.
      void options.restorer.restore(this._tracker, {
        command: CommandIDs.restorePreview,
        args: panel => ({ path: this._previewTargets.get(panel)?.sessionContext.path ?? '', route: panel.content.route }),
        name: panel => savedName(this._previewTargets.get(panel)?.sessionContext.path ?? '', panel.content.route)
      });
    }

    // A channel for every notebook, so an app started there can open its preview automatically.
    _app.docRegistry.addWidgetExtension(NOTEBOOK_FACTORY, {
      createNew: (widget, context) => {
        this._target(widget, context.sessionContext);
        if (!options.toolbarRegistry) {
          // No toolbar registry (not JupyterLab 4 / Notebook 7): add the button directly.
          const toolbar = (widget as unknown as { toolbar?: { addItem(name: string, w: Widget): boolean } }).toolbar;
          toolbar?.addItem(TOOLBAR_ITEM, this._button(widget, context.sessionContext));
        }
        return new DisposableDelegate(() => undefined);
      }
    } as DocumentRegistry.WidgetExtension);
    options.toolbarRegistry?.addFactory<Widget>(NOTEBOOK_FACTORY, TOOLBAR_ITEM, widget => {
      const context = (widget as unknown as { context?: DocumentRegistry.Context }).context;
      return context ? this._button(widget, context.sessionContext) : new Widget();
    });

    // The notebook last in focus is the one the commands act on while a preview (or anything else) has focus.
    const shell = _app.shell;
    shell.currentChanged?.connect((_, change) => {
      const widget = change.newValue;
      if (widget && this._targets.has(widget)) {
        this._last = this._targets.get(widget)!;
      }
      this._app.commands.notifyCommandChanged();
    });
  }

  /** The open preview panels. */
  get previews(): readonly AppPreviewPanel[] {
    return [...this._previews];
  }

  /** Opens (or shows again) the preview of an app of the current notebook's kernel. */
  async openPreview(target: ITarget, route?: string, position?: PreviewPosition, quiet = false): Promise<AppPreviewPanel | null> {
    const app = await this._choose(target, route, quiet);
    if (!app) {
      return null;
    }
    const existing = this._previews.find(p => p.content.channel === target.channel && p.content.route === app.route);
    if (existing) {
      existing.content.sync();
      if (!quiet) {
        this._app.shell.activateById(existing.id);
      }
      return existing;
    }
    const name = target.widget.title.label || 'notebook';
    // A notebook's rendermime renders its kernel's widgets (the preview shows the kernel's view of the app).
    const rendermime = (target.widget as Widget & { content?: { rendermime?: IRenderMimeRegistry } }).content?.rendermime;
    const panel = new AppPreviewPanel(target.channel, app.route, name, rendermime ?? null);
    panel.id = `wave-jupyter-preview-${++this._count}`;
    this._previews.push(panel);
    this._previewTargets.set(panel, target);
    void this._tracker.add(panel);
    panel.disposed.connect(() => {
      this._previews = this._previews.filter(p => p !== panel);
      this._previewTargets.delete(panel);
      this._app.commands.notifyCommandChanged();
    });
    this._add(panel, target.widget, position ?? this._settings.previewPosition, quiet);
    this._app.commands.notifyCommandChanged();
    return panel;
  }

  private _add(panel: AppPreviewPanel, ref: Widget, position: PreviewPosition, quiet: boolean): void {
    const shell = this._app.shell;
    const sibling = this._previews.find(
      p => p !== panel && p.isAttached && this._previewTargets.get(p)?.widget === ref
    );
    if (this._labShell && sibling && position !== 'tab') {
      // The notebook already has a preview split off: another app of it goes in a tab there, not in a new split.
      shell.add(panel, 'main', { mode: 'tab-after', ref: sibling.id, activate: !quiet });
      showTab(panel);
    } else if (this._labShell && ref.isAttached) {
      const mode = position === 'split-bottom' ? 'split-bottom' : position === 'tab' ? 'tab-after' : 'split-right';
      // A split leaves the focus in the notebook, so typing and running cells go on; a tab asked for is shown.
      shell.add(panel, 'main', { mode, ref: ref.id, activate: position === 'tab' && !quiet });
    } else if (this._labShell) {
      shell.add(panel, 'main', { mode: 'split-right', activate: true });
    } else {
      // Notebook 7: its main area holds the notebook alone; the right side panel holds the preview.
      shell.add(panel, 'right', { rank: 1000 });
      shell.activateById(panel.id);
    }
  }

  /**
   * Opens the preview of `route` of the notebook at `path` once that notebook is open and its kernel lists the app
   * (a page load: the notebook and its kernel connection come back on their own time). Resolves to the panel, or
   * null when the app does not come back in time (the kernel was restarted meanwhile, or the app was stopped).
   */
  async restorePreview(path: string, route: string): Promise<AppPreviewPanel | null> {
    const target = await this._whenTarget(path);
    const panel = target && (await whenApp(target, route)) ? await this.openPreview(target, route, undefined, true) : null;
    if (!panel && this._state) {
      // Not coming back: forget it, so a later page load does not open it unasked once the app runs again.
      void this._state.remove(`${TRACKER_NAMESPACE}:${savedName(path, route)}`).catch(() => undefined);
    }
    return panel;
  }

  private _whenTarget(path: string): Promise<ITarget | null> {
    const find = (): ITarget | null => [...this._targets.values()].find(t => t.sessionContext.path === path) ?? null;
    const known = find();
    if (known) {
      return Promise.resolve(known);
    }
    return new Promise(resolve => {
      const check = (): void => {
        const target = find();
        if (target) {
          done(target);
        }
      };
      const done = (target: ITarget | null): void => {
        clearTimeout(timer);
        this._targetAdded.disconnect(check);
        resolve(target);
      };
      const timer = setTimeout(() => done(null), NOTEBOOK_WAIT_MS);
      this._targetAdded.connect(check);
    });
  }

  /** The app a command acts on: the route asked for, the only app, or the user's choice. */
  private async _choose(target: ITarget, route: string | undefined, quiet: boolean): Promise<IAppInfo | null> {
    const channel = target.channel;
    if (!channel.live || (route && !channel.find(route))) {
      // Just after a page load (or a click that beat the snapshot): ask the kernel, without running any code.
      await channel.whenLive();
    }
    const pick = pickApp(channel.apps, route, channel.latest);
    if (pick.kind === 'app') {
      return pick.app;
    }
    if (pick.kind === 'none') {
      if (!quiet) {
        Notification.warning(pick.reason, { autoClose: 6000 });
      }
      return null;
    }
    if (quiet) {
      return null;
    }
    const result = await InputDialog.getItem({
      title: 'Wave: which app?',
      label: `The kernel of ${target.widget.title.label} runs several Wave apps.`,
      items: pick.routes,
      current: 0
    });
    return result.button.accept && result.value ? channel.find(result.value) ?? null : null;
  }

  /** The notebook the commands act on: the current one, the one of the current preview, or the last one. */
  private _current(): ITarget | null {
    const widget = this._app.shell.currentWidget;
    if (widget) {
      const target = this._targets.get(widget) ?? this._previewTargets.get(widget as AppPreviewPanel);
      if (target) {
        return target;
      }
    }
    return this._last && !this._last.widget.isDisposed ? this._last : null;
  }

  private _target(widget: Widget, sessionContext: ISessionContext): ITarget {
    const known = this._targets.get(widget);
    if (known) {
      return known;
    }
    const channel = new AppsChannel(sessionContext);
    const target: ITarget = { widget, sessionContext, channel };
    this._targets.set(widget, target);
    this._targetAdded.emit();
    sessionContext.propertyChanged.connect((_, property) => {
      if (property === 'path') {
        // A renamed notebook (e.g. the first save of Untitled.ipynb): its previews are saved under the new path.
        for (const panel of this._previews.filter(p => this._previewTargets.get(p) === target)) {
          void this._tracker.save(panel);
        }
      }
    });
    channel.started.connect((_, routes) => {
      if (this._settings.autoOpenPreview) {
        for (const route of routes) {
          void this.openPreview(target, route, undefined, true);
        }
      }
    });
    widget.disposed.connect(() => {
      this._targets.delete(widget);
      if (this._last === target) {
        this._last = null;
      }
      for (const panel of this._previews.filter(p => p.content.channel === channel)) {
        panel.dispose();
      }
      channel.dispose();
    });
    return target;
  }

  private _button(widget: Widget, sessionContext: ISessionContext): Widget {
    const target = this._target(widget, sessionContext);
    return new ToolbarButton({
      icon: waveIcon,
      label: 'Preview',
      className: 'wave-jupyter-preview-button',
      tooltip: 'Wave: open app in preview panel',
      onClick: () => void this.openPreview(target)
    });
  }

  private _addCommands(palette: ICommandPalette | null): void {
    const commands = this._app.commands;
    const routeOf = (args: Record<string, unknown>): string | undefined =>
      typeof args.route === 'string' && args.route ? args.route : undefined;
    commands.addCommand(CommandIDs.openPreview, {
      label: 'Wave: open app in preview panel',
      caption: "Show a Wave app of this notebook's kernel beside the notebook, live while cells run",
      icon: args => (args.isPalette ? undefined : waveIcon),
      isEnabled: () => this._current() !== null,
      execute: async args => {
        const target = this._current();
        if (!target) {
          return null;
        }
        const position = POSITIONS.includes(args.position as PreviewPosition)
          ? (args.position as PreviewPosition)
          : undefined;
        const panel = await this.openPreview(target, routeOf(args), position);
        return panel ? panel.id : null;
      }
    });
    commands.addCommand(CommandIDs.openInBrowser, {
      label: 'Wave: open app in a browser tab',
      caption: "Open a Wave app of this notebook's kernel in a new browser tab",
      isEnabled: () => this._current() !== null,
      execute: async args => {
        const target = this._current();
        const app = target ? await this._choose(target, routeOf(args), false) : null;
        if (!app) {
          return null;
        }
        const url = browserUrl(app);
        window.open(url, '_blank', 'noopener');
        return url;
      }
    });
    commands.addCommand(CommandIDs.reloadPreview, {
      label: 'Wave: reload preview',
      caption: 'Load the app of the preview panel again',
      isEnabled: () => this._previews.length > 0,
      execute: () => {
        const current = this._app.shell.currentWidget;
        const target = this._current();
        const panels = this._previews.filter(p =>
          p === current ? true : !this._previews.includes(current as AppPreviewPanel) && p.content.channel === target?.channel
        );
        for (const panel of panels) {
          panel.content.reload();
        }
        return panels.length;
      }
    });
    commands.addCommand(CommandIDs.restorePreview, {
      label: 'Wave: restore app preview',
      execute: args => {
        const path = typeof args.path === 'string' ? args.path : '';
        const route = routeOf(args);
        // Not awaited: the page's layout is restored once every restorer command settled, and the kernel may take
        // a while to answer after a page load. The panel takes its usual place when the app is there.
        if (path && route) {
          void this.restorePreview(path, route);
        }
        return null;
      }
    });
    if (palette) {
      for (const command of [CommandIDs.openPreview, CommandIDs.openInBrowser, CommandIDs.reloadPreview]) {
        palette.addItem({ command, category: 'Wave', args: { isPalette: true } });
      }
    }
  }

  private _labShell: ILabShell | null;
  private _tracker = new WidgetTracker<AppPreviewPanel>({ namespace: TRACKER_NAMESPACE });
  private _state: IStateDB | null;
  private _targetAdded = new Signal<this, void>(this);
  private _targets = new Map<Widget, ITarget>();
  private _previewTargets = new Map<Widget, ITarget>();
  private _previews: AppPreviewPanel[] = [];
  private _last: ITarget | null = null;
  private _count = 0;
}

/** The name a preview is saved under for the layout restorer. */
function savedName(path: string, route: string): string {
  return `${path}:${route}`;
}

/**
 * Resolves to whether the kernel of `target` runs `route`: true once a snapshot lists it, false once a snapshot does
 * not (the app was stopped, or the kernel restarted while the page was away), when the notebook closes, or when the
 * kernel does not answer for a long while.
 */
function whenApp(target: ITarget, route: string): Promise<boolean> {
  const channel = target.channel;
  if (channel.live || channel.find(route)) {
    return Promise.resolve(channel.find(route) !== undefined);
  }
  return new Promise(resolve => {
    const check = (): void => {
      if (channel.live || channel.find(route)) {
        done();
      }
    };
    const done = (): void => {
      clearTimeout(timer);
      channel.changed.disconnect(check);
      target.widget.disposed.disconnect(done);
      resolve(!channel.isDisposed && channel.find(route) !== undefined);
    };
    const timer = setTimeout(done, KERNEL_WAIT_MS);
    channel.changed.connect(check);
    target.widget.disposed.connect(done);
  });
}
