import { ILabShell, ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, IToolbarWidgetRegistry } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';

import { PreviewManager } from './manager';
import { IWaveJupyterSettings, settings } from './settings';

export { DEFAULT_SETTINGS, settings } from './settings';
export type { IWaveJupyterSettings } from './settings';

const PLUGIN_ID = 'wave-jupyter:plugin';

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
 * The preview panel of the apps of a notebook's kernel, with its commands, palette entries and notebook toolbar
 * button. (The live view in an output cell needs no extension: the kernel delivers its front end, with anywidget.)
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'H2O Wave apps in Jupyter: the app preview panel.',
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
    if (settingRegistry) {
      await loadSettings(settingRegistry).catch(reason => {
        console.error(`${PLUGIN_ID}: failed to load the settings`, reason);
      });
    }
    console.debug(`${PLUGIN_ID} is activated`, { settings });
  }
};

export default plugin;
