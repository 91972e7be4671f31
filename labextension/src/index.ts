import { ILabShell, ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, IToolbarWidgetRegistry } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';

import { PreviewManager } from './manager';
import { IWaveJupyterSettings, settings } from './settings';
import { MODULE_NAME, MODULE_VERSION } from './version';

export { DEFAULT_SETTINGS, settings } from './settings';
export type { IWaveJupyterSettings } from './settings';

const PLUGIN_ID = 'wave-jupyter:plugin';

/**
 * Registers the WaveView widget with ipywidgets' widget registry, when there is one.
 *
 * `@jupyter-widgets/base` is a shared package that this extension does not bundle: jupyterlab_widgets provides it.
 * A static import of its `IJupyterWidgetRegistry` token would make the whole extension fail to load where
 * jupyterlab_widgets is missing ("Shared module @jupyter-widgets/base doesn't exist in shared scope"), so the
 * token is imported on demand and the registry resolved as an optional service.
 */
async function registerWaveView(app: JupyterFrontEnd): Promise<boolean> {
  let base: typeof import('@jupyter-widgets/base');
  try {
    base = await import('@jupyter-widgets/base');
  } catch {
    return false;
  }
  const registry = await app.resolveOptionalService(base.IJupyterWidgetRegistry);
  if (!registry) {
    return false;
  }
  registry.registerWidget({
    name: MODULE_NAME,
    version: MODULE_VERSION,
    // The model and view load on first use, in their own chunk.
    exports: async () => {
      const { WaveViewModel, WaveView } = await import('./widget');
      return { WaveViewModel, WaveView };
    }
  });
  return true;
}

async function loadSettings(settingRegistry: ISettingRegistry): Promise<void> {
  const loaded = await settingRegistry.load(PLUGIN_ID);
  const read = (): void => {
    settings.autoOpenPreview = loaded.get('autoOpenPreview').composite as boolean;
    settings.previewPosition = loaded.get('previewPosition').composite as IWaveJupyterSettings['previewPosition'];
  };
  read();
  loaded.changed.connect(read);
}

/**
 * The WaveView widget front end, and the preview panel of the apps of a notebook's kernel with its commands,
 * palette entries and notebook toolbar button.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'H2O Wave apps in Jupyter: the WaveView widget and the app preview panel.',
  autoStart: true,
  optional: [ISettingRegistry, ICommandPalette, IToolbarWidgetRegistry, ILabShell, ILayoutRestorer, IStateDB],
  activate: async (
    app: JupyterFrontEnd,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    toolbarRegistry: IToolbarWidgetRegistry | null,
    labShell: ILabShell | null,
    restorer: ILayoutRestorer | null,
    state: IStateDB | null
  ): Promise<void> => {
    // Commands and the toolbar factory first and synchronously: the notebook toolbar may be built at any time.
    new PreviewManager(app, settings, { palette, toolbarRegistry, labShell, restorer, state });
    const [widgets] = await Promise.all([
      registerWaveView(app).catch(reason => {
        console.error(`${PLUGIN_ID}: failed to register the WaveView widget`, reason);
        return false;
      }),
      settingRegistry
        ? loadSettings(settingRegistry).catch(reason => {
            console.error(`${PLUGIN_ID}: failed to load the settings`, reason);
          })
        : Promise.resolve()
    ]);
    if (!widgets) {
      console.warn(`${PLUGIN_ID}: no Jupyter widget manager (jupyterlab_widgets), so WaveView cannot display`);
    }
    console.debug(`${PLUGIN_ID} is activated`, { widgets, settings });
  }
};

export default plugin;
