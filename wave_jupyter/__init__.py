"""H2O Wave apps inside Jupyter: the Wave server API, served in-process on the current event loop.

Code written for H2O Wave runs unchanged: ``from h2o_wave import ui`` for components, and from here the server-facing
names (``listen``, ``app``, ``Q``, ``site``, ...) that talk to an in-process server instead of waved.
"""

from h2o_wave import data, pack, ui
from h2o_wave.core import clone_expando, copy_expando, expando_to_dict
from h2o_wave.routing import handle_on, on, run_on

from .app import App
from .query import Auth, Q, Query
from .runner import app, apps, listen, run_file, serve
from .runtime import Runtime
from .server import Server, default_server, server_of
from .site import AsyncPage, AsyncSite, Page, Site, site
from .state import AppState, Expando

__version__ = '0.1.0'


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


_activate_in_kernel()

__all__ = [
    'App', 'AppState', 'AsyncPage', 'AsyncSite', 'Auth', 'Expando', 'Page', 'Q', 'Query', 'Runtime', 'Server', 'Site',
    'app', 'apps', 'clone_expando', 'copy_expando', 'data', 'default_server', 'expando_to_dict', 'handle_on', 'listen',
    'load_ipython_extension', 'on', 'pack', 'run_file', 'run_on', 'serve', 'server_of', 'site', 'ui',
]
