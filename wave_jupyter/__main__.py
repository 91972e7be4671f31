"""The ``python -m wave_jupyter`` (or ``wave-jupyter``) command: run a Wave app here, export one from a notebook, or
build one into a static site that runs in the browser."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from .config import PORT_ENV, STANDALONE_PORT, Config
from .files import resolve, run_file

DESCRIPTION = 'H2O Wave apps in Jupyter, and outside it.'
EPILOG = '''examples:
  python -m wave_jupyter run app.py               serve an unmodified Wave app file on 127.0.0.1
  python -m wave_jupyter run pkg.app --reload     a module, as `wave run` takes it; re-run on change, state kept
  python -m wave_jupyter serve --env-file wave.env   a Wave server alone, as waved: other processes' apps use it
  python -m wave_jupyter export demo.ipynb -o app.py   the notebook's app as a plain h2o_wave file
  python -m wave_jupyter lite build app.py -o site/    the app as static files: it runs in the browser, offline

Each command has its own --help.'''

RUN_EPILOG = '''examples:
  python -m wave_jupyter run app.py
  python -m wave_jupyter run examples.todo --reload
  python -m wave_jupyter run app.py --port 0      any free port; the URL is printed'''

SERVE_EPILOG = '''examples:
  python -m wave_jupyter serve --env-file wave.env &
  source wave.env && wave run app                 an unmodified h2o_wave app, registered with this server
  source wave.env && python script.py             a script's site[...] pages, shown by this server

Without --env-file the environment is printed as `export` lines to paste into another shell. It holds the server's
secret and its access key pair: keep it out of logs. A new server has new ones (source the file again).'''

EXPORT_EPILOG = '''examples:
  python -m wave_jupyter export demo.ipynb -o app.py
  python -m wave_jupyter export demo.ipynb --route /demo -o app.py && wave run app

In a notebook: %wave export /demo app.py'''

LITE_EPILOG = '''examples:
  python -m wave_jupyter lite build app.py -o site/
  python -m wave_jupyter lite build demo.ipynb --route /demo -o site/
  python -m http.server -d site/ 8000            then open http://127.0.0.1:8000/

The site needs nothing but a static file server: Python (Pyodide) runs in the visitor's browser, with every package
packed at build time from this environment (pure Python only). Pyodide's core comes from the npm registry once, then
from the cache (--pyodide for a local copy); --pyodide-cdn loads the full Pyodide distribution from its CDN instead.'''


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog='python -m wave_jupyter', description=DESCRIPTION, epilog=EPILOG,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = top.add_subparsers(dest='command', required=True, metavar='{run,serve,export,lite}')

    run = sub.add_parser('run', help='serve a Wave app or script (a file or module) on 127.0.0.1',
                         description='Serve an unmodified Wave app (@app / listen) or script (site pages), given as '
                                     'a file or, as `wave run` takes it, a module name.',
                         epilog=RUN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument('target', metavar='FILE|MODULE', help='app.py, src/app.py, app or pkg.app (relative imports '
                                                           'inside a package work)')
    run.add_argument('--port', type=int, default=None,
                     help=f'port on 127.0.0.1 (default: ${PORT_ENV} or {STANDALONE_PORT}; 0 = any free port)')
    run.add_argument('--reload', action='store_true',
                     help='run the file again when a .py file beside it changes, keeping q.app, q.user, q.client '
                          'and open tabs')
    run.add_argument('--no-reload', action='store_true', help='accepted as `wave run` takes it (the default here)')
    run.add_argument('--no-autostart', action='store_true',
                     help='accepted as `wave run` takes it (there is no separate server to start here)')
    run.add_argument('-v', '--verbose', action='store_true', help='log every request and frame')

    serve = sub.add_parser('serve', help='a Wave server alone (as waved): apps and scripts in other processes use it',
                           description='Run only the server, for h2o_wave programs in other processes (waved\'s hub '
                                       'API): apps started with `wave run` register with it, scripts save pages to '
                                       'it. It says where it is, and with what keys, in the environment they read.',
                           epilog=SERVE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    serve.add_argument('--port', type=int, default=None,
                       help=f'port on 127.0.0.1 (default: ${PORT_ENV} or {STANDALONE_PORT}; 0 = any free port)')
    serve.add_argument('--env-file', default=None, metavar='PATH',
                       help='write the environment there (mode 0600) instead of printing it')
    serve.add_argument('-v', '--verbose', action='store_true', help='log every request and frame')

    export = sub.add_parser('export', help="write a notebook's Wave app as a plain h2o_wave app file",
                            description="Write the app a notebook starts (its handler and what the handler needs: "
                                        "imports, helpers, constants, @on handlers, on_startup) as a file that runs "
                                        "unchanged on the Wave server. Cells that only inspect or drive the app are "
                                        "left out.",
                            epilog=EXPORT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    export.add_argument('notebook', metavar='NOTEBOOK.ipynb')
    export.add_argument('--route', default=None, help='the app to export, when the notebook starts several')
    export.add_argument('-o', '--output', default=None, help='the file to write (default: print it)')

    lite = sub.add_parser('lite', help='a Wave app as a static site that runs in the browser (Pyodide), offline',
                          description='Build a Wave app into a folder of static files: Python runs in the '
                                      "visitor's browser, in a Web Worker, and the unchanged Wave UI in the page. No "
                                      'server, no network.', epilog=LITE_EPILOG,
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    lite_sub = lite.add_subparsers(dest='lite_command', required=True, metavar='{build}')
    build = lite_sub.add_parser('build', help='build the site', epilog=LITE_EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    build.add_argument('app', metavar='APP', help='a Wave app file, a module (pkg.app), or a notebook (its app, as '
                                                 'export writes it)')
    build.add_argument('-o', '--output', required=True, metavar='SITE', help='the folder to write (replaced)')
    build.add_argument('--route', default=None, help='the app to serve, when the file or notebook has several')
    build.add_argument('-r', '--requirement', action='append', default=[], metavar='DIST',
                       help='a distribution to pack besides what the app imports (installed here; pure Python)')
    build.add_argument('--pyodide', default=None, metavar='DIR|TGZ',
                       help='Pyodide\'s core from this folder or npm tarball (default: downloaded once from the npm '
                            'registry, then cached)')
    build.add_argument('--pyodide-cdn', action='store_true',
                       help="load Pyodide from its CDN at run time (the site then needs the network; its compiled "
                            'packages, e.g. numpy, become available)')
    build.add_argument('--title', default=None, help="the page's title")
    return top


def main(argv: list[str] | None = None) -> int:
    top = parser()
    args = top.parse_args(argv)
    if args.command == 'export':
        return _export(top, args)
    if args.command == 'lite':
        return _lite(args)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    port = args.port if args.port is not None else Config.from_env().port_or(STANDALONE_PORT)
    if args.command == 'serve':
        return _serve(port, args.env_file)
    try:
        resolve(args.target)
    except FileNotFoundError as e:
        top.error(str(e))
    try:
        return run_file(args.target, port, reload=args.reload and not args.no_reload)
    except OSError as e:
        print(f'wave_jupyter: {e}', file=sys.stderr)
        return 1


def _serve(port: int, env_file: str | None) -> int:
    from .runner import serve

    def setup(srv, stop) -> None:
        if env_file:
            srv.write_env(env_file)
            print(f'Wave server at {srv.url()}; the environment for other processes is in {env_file}', flush=True)
        else:
            print(f'# Wave server at {srv.url()}', flush=True)
            print(''.join(f"export {k}='{v}'\n" for k, v in srv.env().items()), end='', flush=True)

    try:
        return serve(setup, port=port)
    except OSError as e:
        print(f'wave_jupyter: {e}', file=sys.stderr)
        return 1


def _lite(args: argparse.Namespace) -> int:
    from .lite.build import build
    from .lite.packages import PackError
    from .lite.pyodide import PyodideError
    try:
        report = build(args.app, args.output, route=args.route, requirements=tuple(args.requirement),
                       pyodide_source=args.pyodide or Config.from_env().pyodide, cdn=args.pyodide_cdn,
                       title=args.title)
    except (PackError, PyodideError, FileNotFoundError) as e:
        print(f'wave_jupyter lite: {e}', file=sys.stderr)
        return 1
    print(report)
    print(f'serve it with any static file server, e.g.: python -m http.server -d {args.output} 8000')
    return 0


def _export(top: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from .export import ExportError, export_notebook
    if not os.path.isfile(args.notebook):
        top.error(f'no such notebook: {args.notebook}')
    try:
        text = export_notebook(args.notebook, args.route, file=args.output or 'app.py')
    except ExportError as e:
        print(f'wave_jupyter export: {e}', file=sys.stderr)
        return 1
    if args.output:
        with open(args.output, 'w', encoding='utf-8') as f:
            f.write(text)
        print(f'wrote {args.output}: run it with `wave run {os.path.splitext(os.path.basename(args.output))[0]}` '
              f'or `python -m wave_jupyter run {args.output}`', file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
