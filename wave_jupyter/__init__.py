"""H2O Wave apps inside Jupyter: the Wave server API, served in-process on the current event loop.

Code written for H2O Wave runs unchanged: ``from h2o_wave import ui`` for components, and from here the server-facing
names (``listen``, ``app``, ``Q``, ``site``, ...) that talk to an in-process server instead of waved.
"""

from h2o_wave import data, pack, ui
from h2o_wave.core import clone_expando, copy_expando, expando_to_dict
from h2o_wave.routing import handle_on, on, run_on

from .app import App
from .files import run_file
from .process import PROCESS, site
from .process import ProcessAsyncSite as AsyncSite
from .process import ProcessSite as Site
from .query import Auth, Q, Query
from .runner import app, apps, listen, serve
from .runtime import Runtime
from .site import AsyncPage, Page
from .state import AppState, Expando

__version__ = '0.1.0'


def __getattr__(name: str) -> object:
    """The tornado transport's names, imported when first used (the rest of the package works without tornado:
    Pyodide, JupyterLite)."""
    if name in ('Server', 'server_of'):
        from . import server
        return getattr(server, name)
    if name == 'default_server':
        return PROCESS.server
    if name == 'server_env':
        return PROCESS.env
    raise AttributeError(f"module 'wave_jupyter' has no attribute {name!r}")


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where ``jupyter labextension develop`` finds the built extension."""
    return [{'src': 'labextension', 'dest': 'wave-jupyter'}]


def load_ipython_extension(shell: object) -> None:
    """``%load_ext wave_jupyter``: live views, the ``%wave`` magic, hot swap."""
    from .jupyter import load_ipython_extension as load
    load(shell)


def _activate_in_kernel() -> None:
    """Imported inside IPython: show apps live and hot swap them without needing ``%load_ext``."""
    import sys
    if 'IPython' not in sys.modules:
        return
    shell = sys.modules['IPython'].get_ipython()
    if shell is not None and hasattr(shell, 'kernel'):
        load_ipython_extension(shell)


def _shows_as(app: App) -> object:
    """An app as marimo shows an object that has ``_display_``: its live view (marimo's anywidget element)."""
    from .jupyter.marimo import shown
    return shown(app)


App.shows_as = staticmethod(_shows_as)
_activate_in_kernel()

__all__ = [
    'App', 'AppState', 'AsyncPage', 'AsyncSite', 'Auth', 'Expando', 'Page', 'Q', 'Query', 'Runtime', 'Server', 'Site',
    'app', 'apps', 'clone_expando', 'copy_expando', 'data', 'default_server', 'expando_to_dict', 'handle_on', 'listen',
    'load_ipython_extension', 'on', 'pack', 'run_file', 'run_on', 'serve', 'server_of', 'site', 'ui',
]
