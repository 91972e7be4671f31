/** The widget module's name and version, as the Python side (`wave_jupyter.jupyter.widget`) names them. */
export const MODULE_NAME = 'wave-jupyter';
export const MODULE_VERSION = '0.1.0';
