"""Wave apps with no server: a static site built from an app (``python -m wave_jupyter lite build``), whose Python
runs in the visitor's browser (Pyodide, in a Web Worker), and JupyterLite sites where notebooks run wave_jupyter.

:mod:`.build` makes a site from :mod:`.packages` (the Python, packed from this environment), :mod:`.pyodide` (its
core) and :mod:`.ui` (the unchanged Wave UI); :mod:`.worker` is the worker host that runs in the browser.
"""
