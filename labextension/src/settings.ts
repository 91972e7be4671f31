/** The settings of `schema/plugin.json`. */
export interface IWaveJupyterSettings {
  /** Open a preview panel as soon as a cell starts an app. */
  autoOpenPreview: boolean;
  /** Where a preview panel opens. */
  previewPosition: PreviewPosition;
}

export type PreviewPosition = 'split-right' | 'split-bottom' | 'tab';

export const DEFAULT_SETTINGS: IWaveJupyterSettings = {
  autoOpenPreview: false,
  previewPosition: 'split-right'
};

/** The current settings, kept up to date with the settings registry. */
export const settings: IWaveJupyterSettings = { ...DEFAULT_SETTINGS };
