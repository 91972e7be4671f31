"""``%wave`` and ``%%wave``: start, show, stop and inspect apps from notebook cells."""

from __future__ import annotations

import argparse
import ast
import asyncio
import os
import shlex
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.display import display

from .. import urls
from ..app import App
from ..config import TRANSPORTS
from ..files import start_file
from ..modes import MODES
from ..process import PROCESS
from ..runner import apps, listen
from . import display as wave_display
from .session import activate

USAGE = '''%wave listen /route [handler] [--mode unicast|multicast|broadcast] [--height N] [--reset]
                          [--transport auto|direct|proxy|comm]
%%wave /route [--mode ...] [--height N] [--reset]   (the cell is the handler: an `async def`, or a body using `q`)
%wave run path.py         run an unmodified Wave app or script file
%wave show /route [--height N]   (an app, a script's page, or an app of another process)
%wave stop /route | --all
%wave status
%wave state /route
%wave logs /route
%wave export /route app.py    the app as a plain h2o_wave file (handler, helpers, imports), for `wave run`
%wave checkpoint /route DIR   q.app and q.user as h2o_wave's checkpoint: H2O_WAVE_CHECKPOINT_DIR=DIR wave run app
%wave env [--file PATH]   this server for other processes: `!wave run app`, `!python script.py` (h2o_wave) use it'''


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would exit the kernel's process
        raise UsageError(f'{message}\n\nUsage:\n{USAGE}')


def _parser(prog: str, route: bool = True) -> _Parser:
    p = _Parser(prog=prog, add_help=False)
    if route:
        p.add_argument('route')
    return p


@magics_class
class WaveMagics(Magics):
    @line_cell_magic
    def wave(self, line: str, cell: str | None = None) -> Any:
        activate(self.shell)
        if cell is not None:
            return self._cell(line, cell)
        words = shlex.split(line)
        if not words:
            raise UsageError(f'Usage:\n{USAGE}')
        command, args = words[0], words[1:]
        handler = getattr(self, f'_{command}', None)
        if handler is None or command.startswith('_'):
            raise UsageError(f'unknown %wave command {command!r}\n\nUsage:\n{USAGE}')
        return handler(args)

    # --- commands ------------------------------------------------------------------------------------------------

    def _listen(self, args: list[str]) -> Any:
        p = _parser('%wave listen')
        p.add_argument('handler', nargs='?', default='serve')
        self._display_options(p)
        o = p.parse_args(args)
        handle = self.shell.user_ns.get(o.handler)
        if handle is None:
            raise UsageError(f'no handler named {o.handler!r} in the notebook: define `async def {o.handler}(q)` first')
        if not asyncio.iscoroutinefunction(handle):
            raise UsageError(f'{o.handler!r} must be an async function: `async def {o.handler}(q): ...`')
        return self._mount(_route(o.route), handle, o)

    def _cell(self, line: str, cell: str) -> Any:
        p = _parser('%%wave')
        self._display_options(p)
        o = p.parse_args(shlex.split(line))
        return self._mount(_route(o.route), self._cell_handler(cell, o.route), o)

    def _run(self, args: list[str]) -> None:
        p = _parser('%wave run', route=False)
        p.add_argument('path')
        o = p.parse_args(args)
        try:
            start_file(o.path, PROCESS.server())
        except FileNotFoundError as e:
            raise UsageError(str(e)) from None
        print(f'Running {o.path}: its apps and pages appear in `%wave status` as they start; '
              f'show one with `%wave show /route`.')

    def _env(self, args: list[str]) -> None:
        p = _parser('%wave env', route=False)
        p.add_argument('--file', default=None)
        o = p.parse_args(args)
        env = PROCESS.env(o.file)
        os.environ.update(env)  # what `!wave run app` and subprocess inherit
        # Names only: the values hold the server's secret and key pair, and this output is saved with the notebook.
        where = f'written to {o.file} (mode 0600; `source` it in a shell) and ' if o.file else ''
        print(f'Wave server {urls.where(env["H2O_WAVE_ADDRESS"])}: {", ".join(env)} {where}set in this kernel\'s '
              f'environment. h2o_wave programs it starts use this server: start them in the background '
              f'(`!wave run app &`, `subprocess.Popen`, `await asyncio.create_subprocess_exec`), since the server '
              f'runs on this kernel\'s loop and a cell that waits for one holds it. The values hold the server\'s '
              f'secrets: do not print them.')

    def _show(self, args: list[str]) -> Any:
        p = _parser('%wave show')
        p.add_argument('--height', type=int, default=None)
        o = p.parse_args(args)
        route = _route(o.route)
        runtime = PROCESS.current_runtime
        if route not in apps and runtime is not None and (route in runtime.apps or runtime.broker.pages.get(route)):
            return wave_display.route_view(runtime, route, o.height)  # a script's page, an app of another process
        return wave_display.view(_app(route), o.height)

    def _stop(self, args: list[str]) -> None:
        p = _parser('%wave stop', route=False)
        p.add_argument('route', nargs='?')
        p.add_argument('--all', action='store_true')
        o = p.parse_args(args)
        if o.all == bool(o.route):
            raise UsageError('say which app: %wave stop /route, or %wave stop --all')
        for app in list(apps.values()) if o.all else [_app(o.route)]:
            app.stop()
            print(f'stopped {app.route}')

    def _status(self, args: list[str]) -> None:
        from ..state import table
        # No URL: it holds the server's secret, and this table is saved with the notebook (apps[route].url has it).
        def where(a: App) -> str:
            return urls.where(a.runtime.browser_urls(a.route).get('direct', '')) or 'comm only'
        rows = [(a.route, a.mode, len(a.tabs), len(a.history), len(a.errors), where(a)) for a in apps.values()]
        runtime = PROCESS.current_runtime
        others = [a for a in runtime.apps.values() if not isinstance(a, App)] if runtime is not None else []
        rows += [(a.route, a.mode, len(runtime.broker.tabs_at(a.route)), '', '',
                  f'another process ({urls.where(getattr(a, "address", ""))})') for a in others]
        from IPython.display import HTML
        display(HTML(table(['route', 'mode', 'tabs', 'queries', 'errors', 'served at'], rows, empty='no apps running')))

    def _state(self, args: list[str]) -> Any:
        o = _parser('%wave state').parse_args(args)
        return _app(o.route).state

    def _logs(self, args: list[str]) -> None:
        o = _parser('%wave logs').parse_args(args)
        app = _app(o.route)
        print(''.join(app.output) or f'(nothing printed by the {app.route} handler yet)', end='')

    def _export(self, args: list[str]) -> None:
        from ..export import AppSpec, Cell, ExportError, export
        p = _parser('%wave export')
        p.add_argument('file')
        o = p.parse_args(args)
        app = _app(o.route)
        handler = getattr(app.handler, '__name__', '')
        if getattr(app.handler, '__globals__', None) is not self.shell.user_ns or not handler.isidentifier():
            raise UsageError(f'{app.route} is served by {handler or app.handler!r}, which no cell defines at the top '
                             'level (a closure or a function from a module): export needs `async def name(q)` in a '
                             'cell')
        # What ran, in the order it ran: the kernel's state, re-runs included (the last definition wins).
        raw = self.shell.history_manager.input_hist_raw
        cells = [Cell(f'In [{i}]', src) for i, src in enumerate(raw) if src.strip()]
        names = {f: getattr(getattr(app, f, None), '__name__', None) for f in ('on_startup', 'on_shutdown')}
        spec = AppSpec(app.route, handler, app.mode, names['on_startup'], names['on_shutdown'], 'the kernel')
        try:
            text = export(cells, source='a notebook', spec=spec, file=o.file)
        except ExportError as e:
            raise UsageError(f'cannot export {app.route}: {e}') from None
        with open(o.file, 'w', encoding='utf-8') as f:
            f.write(text)
        stem = o.file.rsplit('/', 1)[-1].removesuffix('.py')
        print(f'wrote {o.file}: run it with `wave run {stem}` (the Wave server) or '
              f'`python -m wave_jupyter run {o.file}`')

    def _checkpoint(self, args: list[str]) -> None:
        p = _parser('%wave checkpoint')
        p.add_argument('directory')
        o = p.parse_args(args)
        try:
            path = _app(o.route).checkpoint(o.directory)
        except ValueError as e:
            raise UsageError(str(e)) from None
        print(f'wrote {path}: start the app with H2O_WAVE_CHECKPOINT_DIR={o.directory} to begin with this q.app '
              'and q.user')

    # --- helpers -------------------------------------------------------------------------------------------------

    @staticmethod
    def _display_options(p: _Parser) -> None:
        p.add_argument('--mode', choices=MODES, default=None)
        p.add_argument('--height', type=int, default=None)
        p.add_argument('--reset', action='store_true')
        p.add_argument('--transport', choices=TRANSPORTS, default=None)

    def _mount(self, route: str, handle: Any, o: argparse.Namespace) -> Any:
        existing = apps.get(route)
        if existing is not None:
            existing.swap(handle, o.mode, reset=o.reset)
            app = existing
        else:
            app = listen(route, handle, o.mode, transport=o.transport)
        if o.transport:
            app.transport = o.transport
        if o.height:
            app.height = o.height
        return app

    def _cell_handler(self, cell: str, route: str) -> Any:
        """The handler a ``%%wave`` cell defines: its last ``async def``, or the cell body run with ``q``."""
        try:
            tree = ast.parse(cell)
        except SyntaxError as e:
            raise UsageError(f'%%wave {route}: the cell is not valid Python: {e}') from None
        defs = [n.name for n in tree.body if isinstance(n, ast.AsyncFunctionDef)]
        if defs:
            self.shell.run_cell(cell, store_history=False)
            return self.shell.user_ns[defs[-1]]
        name = f'_wave_cell_{route.strip("/").replace("/", "_") or "root"}'
        body = '\n'.join('    ' + line for line in cell.splitlines()) or '    pass'
        exec(compile(f'async def {name}(q):\n{body}\n', f'<%%wave {route}>', 'exec'), self.shell.user_ns)
        return self.shell.user_ns[name]


def _route(route: str) -> str:
    if not route.startswith('/'):
        raise UsageError(f'a route starts with "/": got {route!r}')
    return route


def _app(route: str) -> Any:
    try:
        return apps[_route(route)]
    except KeyError as e:
        raise UsageError(str(e.args[0])) from None
