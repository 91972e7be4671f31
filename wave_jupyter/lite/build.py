"""``python -m wave_jupyter lite build APP -o SITE``: a Wave app as a folder of static files that runs entirely in the
visitor's browser (Pyodide in a Web Worker, the unchanged Wave UI in the page), with no server and no network.

What a site holds (``files/`` is content-addressed: a file's name changes with its content, so it is cached for good)::

    index.html                              the Wave UI's own page, with lite.js first in it
    lite.js  worker.js  sw.js               the page's script, its Python worker, the service worker that keeps files/
    lite.json                               what goes where (read by the page at start)
    files/pyodide-<version>-<hash>/         Pyodide's core (CPython 3.14 and its standard library, WebAssembly)
    files/python-<hash>.zip                 site-packages (wave_jupyter, h2o_wave and their imports)
    files/app-<hash>.zip                    the app's own files
    files/wave-ui-<hash>/                   the Wave UI of the installed h2o-wave, unchanged

Everything is decided here: which distributions (:mod:`.packages`), which Pyodide (:mod:`.pyodide`), which UI
(:mod:`.ui`). The browser only downloads, in parallel, and unpacks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..files import package_of, resolve
from . import packages, pyodide, ui

STATIC = Path(__file__).parent / 'static'
SCRIPTS = {'lite.js': 'page.js', 'worker.js': 'worker.js', 'sw.js': 'sw.js'}


@dataclass
class Report:
    site: Path
    route: str
    distributions: dict[str, str]
    sizes: dict[str, int] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    #: What the site shows while Python loads, or why nothing.
    prerender: str = ''

    @property
    def total(self) -> int:
        return sum(self.sizes.values())

    def __str__(self) -> str:
        parts = ', '.join(f'{k} {v / 1e6:.1f} MB' for k, v in self.sizes.items())
        return (f'{self.site}: {self.route} as a static site, {self.total / 1e6:.1f} MB ({parts}); '
                f'{len(self.distributions)} distributions: ' +
                ', '.join(f'{k} {v}' for k, v in sorted(self.distributions.items())))


def app_files(app: Path) -> tuple[dict[str, bytes], str]:
    """The app's own files, keyed by their path under ``app/``, and the path of the one to run.

    A file inside a package brings its whole package (its relative imports); a plain file brings the sibling modules
    it imports (Wave's examples import ``synth.py``), transitively.
    """
    folder, package = package_of(str(app))
    if package:
        top = Path(folder) / package.split('.')[0]
        found = {f'{p.relative_to(folder).as_posix()}': p.read_bytes() for p in sorted(top.rglob('*.py'))
                 if '__pycache__' not in p.parts}
        return found, app.relative_to(folder).as_posix()
    found: dict[str, bytes] = {}
    todo = [app]
    while todo:
        path = todo.pop()
        if path.name in found:
            continue
        found[path.name] = path.read_bytes()
        for name in packages.imports_in(path.read_text(encoding='utf-8'), str(path)):
            sibling = path.parent / f'{name}.py'
            if sibling.is_file():
                todo.append(sibling)
    return found, app.name


def _source(target: str, route: str | None, work: Path) -> Path:
    """The app file to run: ``target`` itself, or the app exported from a notebook (as ``export`` writes it)."""
    if target.endswith('.ipynb'):
        from ..export import export_notebook
        out = work / (Path(target).stem.replace('-', '_') + '_app.py')
        out.write_text(export_notebook(target, route, file=out.name), encoding='utf-8')
        return out
    return Path(resolve(target))


def _route_of(path: Path, route: str | None) -> str:
    if route:
        return route
    from ..production import route_of
    try:
        return route_of(path)
    except ValueError:
        return '/'


def prerender(app: Path, route: str, timeout: float = 20) -> tuple[str | None, str]:
    """The app's first page for a new visitor, as the frame the UI gets (``{"p": ...}``), computed here in CPython by
    the app's own code; or None and why not (the handler failed, it needs the browser, it took too long)."""
    from .. import protocol
    from ..testing import WaveTest

    async def run() -> tuple[str | None, str]:
        wave = WaveTest()
        try:
            wave.load(app)
            await asyncio.wait_for(wave.start(), timeout)
            if route not in wave.apps:
                return None, f'no app at {route}'
            tab = wave.tab(route)
            await asyncio.wait_for(tab.settle(), timeout)
            if wave.apps[route].errors:
                return None, 'its handler raised at build time'
            return protocol.page_doc(tab.page.dump()), 'the first page of a new visitor, computed at build time'
        finally:
            await wave.aclose()

    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:  # a loop of its own, whatever the caller runs
            return pool.submit(asyncio.run, run()).result(timeout + 10)
    except Exception as e:  # noqa: BLE001 - a site without a first page still works
        return None, f'{type(e).__name__}: {e}'[:200]


def build(target: str, output: str | Path, *, route: str | None = None, requirements: tuple[str, ...] = (),
          pyodide_source: str | None = None, cdn: bool = False, title: str | None = None,
          first_page: bool = True) -> Report:
    """Build the site of the app ``target`` (a Wave app file, a module name, or a notebook) into ``output``."""
    site = Path(output)
    with tempfile.TemporaryDirectory(prefix='wave_jupyter_lite_') as tmp:
        source = _source(target, route, Path(tmp))
        route = _route_of(source, route)
        own, main = app_files(source)
        core = pyodide.core(pyodide_source) if not cdn else None
        python = pyodide.python_version(core) if core is not None else pyodide.PYTHON
        local = {Path(name).with_suffix('').as_posix().split('/')[0] for name in own}
        imported = set().union(*(packages.imports_in(text.decode('utf-8'), name) for name, text in own.items()))
        wanted = packages.distributions_for(imported, local)
        dists = packages.closure([*packages.BASE, *wanted, *requirements], python)
        packed = packages.pack(dists)
        app_zip = packages.zip_files({f'app/{k}': v for k, v in own.items()})
        first, why = prerender(source, route) if first_page else (None, 'off (--no-prerender)')
    if site.exists():
        shutil.rmtree(site)
    (site / 'files').mkdir(parents=True)
    report = Report(site, route, packed.distributions, dropped=packed.dropped, prerender=why)

    zip_name = f'files/python-{_digest(packed.data)}.zip'
    (site / zip_name).write_bytes(packed.data)
    app_name = f'files/app-{_digest(app_zip)}.zip'
    (site / app_name).write_bytes(app_zip)
    report.sizes['packages'] = len(packed.data) + len(app_zip)

    if core is not None:
        parts = [(core / name).read_bytes() for name in pyodide.CORE]
        folder = f'files/pyodide-{pyodide.VERSION}-{_digest(*parts)}/'
        (site / folder).mkdir()
        for name, data in zip(pyodide.CORE, parts, strict=True):
            (site / folder / name).write_bytes(data)
        report.sizes['pyodide'] = sum(len(p) for p in parts)
        index_url = folder
    else:
        index_url = pyodide.CDN

    ui_name = ui.copy_tree(site / 'files')
    report.sizes['ui'] = sum(p.stat().st_size for p in (site / 'files' / ui_name).rglob('*') if p.is_file())

    for out, built in SCRIPTS.items():
        script = STATIC / built
        if not script.is_file():
            raise FileNotFoundError(f'{script} is missing: wave_jupyter was installed without its web build (npm)')
        shutil.copyfile(script, site / out)
    title = title or f'{route} (Wave)'
    manifest = {
        'title': title, 'route': route, 'app': main, 'python': zip_name, 'app_files': app_name,
        'distributions': packed.distributions,
        'pyodide': {'version': pyodide.VERSION, 'index': index_url, 'packages': []},
        # What the first visit imports before it keeps a snapshot of the interpreter (see worker.js).
        'preload': sorted(imported - local),
        # What a new visitor sees while Python loads (see worker.js), or null.
        'prerender': first,
    }
    manifest['build'] = _digest(json.dumps(manifest, sort_keys=True).encode(), packed.data, app_zip)
    (site / 'lite.json').write_text(json.dumps(manifest, indent=1), encoding='utf-8')
    inline = json.dumps(manifest).replace('</', '<\\/')  # in the page too: no request before the worker starts
    body = BODY + f'\n  <script type="application/json" id="wave-lite-manifest">{inline}</script>'
    (site / 'index.html').write_text(ui.lite_index(f'files/{ui_name}/', HEAD, body, title), encoding='utf-8')
    report.sizes['page'] = sum((site / n).stat().st_size for n in (*SCRIPTS, 'index.html', 'lite.json'))
    return report


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return h.hexdigest()[:16]


#: First in the page's head: the bar's looks, and the page's script (before the UI's own module).
HEAD = '''  <style>
    #wave-lite-progress { position: fixed; left: 0; right: 0; top: 0; z-index: 1000; padding: 6px 12px;
      background: rgba(255, 255, 255, .94); border-bottom: 1px solid #ddd; font: 13px system-ui, sans-serif;
      color: #333; }
    #wave-lite-progress[data-step=error] { color: #a00; background: #fff4f4; }
    #wave-lite-track { height: 4px; background: #eee; margin-top: 4px; border-radius: 2px; overflow: hidden; }
    #wave-lite-bar { height: 100%; width: 2%; background: #1f77b4; transition: width .2s; }
    #wave-lite-shield { position: fixed; inset: 0; z-index: 999; cursor: progress; }
  </style>
  <script type="module" src="./lite.js"></script>'''
#: First in the page's body: the progress bar (Python, packages, app) until the app answers, and a shield over the
#: page meanwhile (what is shown is the build's first page: input typed into it would be lost when the app's own
#: page replaces it).
BODY = '''  <div id="wave-lite-shield" title="Starting Python…"></div>
  <div id="wave-lite-progress" role="progressbar" aria-live="polite">
    <span id="wave-lite-step">Python: starting</span>
    <div id="wave-lite-track"><div id="wave-lite-bar"></div></div>
  </div>'''
