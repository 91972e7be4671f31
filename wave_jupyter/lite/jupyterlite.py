"""A JupyterLite addon: ``jupyter lite build`` in an environment with wave_jupyter makes a site whose notebooks run
Wave apps (``listen('/demo', serve)``: the live app in the output cell, ``apps['/demo']`` in the next), with no
network at all.

Registered through JupyterLite's entry point (``jupyterlite.addon.v0``), so a plain ``jupyter lite build --contents
DIR --output-dir SITE`` uses it. It makes the Pyodide kernel work offline and gives it wave_jupyter:

* Pyodide's core (:mod:`.pyodide`, the version ``jupyterlite-pyodide-kernel`` expects) in ``static/pyodide/``;
* wheels of what the kernel needs (IPython, jedi, comm, the kernel's own micropip, piplite and shims) and of
  wave_jupyter with what it imports there (h2o_wave and its imports, anywidget, ipywidgets), made from this
  environment (:func:`.packages.wheel`; micropip, which needs Python 3.13, is downloaded once with pip), beside a
  Pyodide lock file listing exactly them, so nothing is looked for elsewhere; ``import wave_jupyter`` in a cell loads
  it (Pyodide loads a cell's imports from the lock);
* the Wave UI's files (:func:`.ui.write_bundle`) in ``static/wave-jupyter/``, where a notebook view's frame finds
  them (the kernel has no UI files);
* the kernel's settings: Pyodide from the site, no PyPI fallback, the kernel's own packages preloaded.

``--wave-jupyter-online`` (``WaveJupyterAddon.offline = False``) leaves Pyodide and the kernel's packages to the CDN
and adds only wave_jupyter's wheels and the UI.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from jupyterlite_core.addons.base import BaseAddon
from jupyterlite_core.constants import JUPYTERLITE_JSON
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from traitlets import Bool

from ..commlink import SITE_UI
from ..config import Config
from . import packages, pyodide, ui

PLUGIN = '@jupyterlite/pyodide-kernel-extension:kernel'
#: What the Pyodide kernel installs before it starts (preloaded: no micropip resolution at start).
KERNEL_PACKAGES = ['micropip', 'piplite', 'ipykernel', 'comm', 'pyodide-kernel', 'jedi', 'ipython']
#: wave_jupyter in JupyterLite: the runtime's needs and the notebook layer's (its own Requires-Dist is a server's).
OURS_IN_JUPYTERLITE = (*packages.OURS_IN_A_BROWSER, 'anywidget', 'ipywidgets')
#: The kernel's own wheels (in jupyterlite-pyodide-kernel's lab extension): installed instead of this environment's.
FROM_THE_KERNEL = ('piplite', 'pyodide-kernel', 'ipykernel', 'widgetsnbextension')
MICROPIP = 'micropip==0.11.1'
#: Where notebook views find the UI (the kernel answers their boot with this path, see commlink.SITE_UI).
UI_DIR = SITE_UI.rsplit('/', 1)[0]


class WaveJupyterAddon(BaseAddon):
    """wave_jupyter, offline, in a JupyterLite site."""

    __all__ = ['build', 'post_build']  # noqa: RUF012 - the addon's hooks, as jupyterlite reads them

    offline = Bool(True, help='Pyodide and every package from the site itself (else from the CDN)').tag(config=True)
    flags = {'wave-jupyter-online': ({'WaveJupyterAddon': {'offline': False}},  # noqa: RUF012 - traitlets' form
                                     'leave Pyodide and the kernel\'s packages to the CDN')}

    @property
    def pyodide_dir(self) -> Path:
        return self.manager.output_dir / 'static' / 'pyodide'

    def build(self, manager: object) -> object:
        yield self.task(name='wheels', doc='Pyodide, and wheels of what the kernel and wave_jupyter need',
                        targets=[self.pyodide_dir / 'pyodide-lock.json'], actions=[self.write_pyodide],
                        uptodate=[False])
        yield self.task(name='ui', doc='the Wave UI, for notebook views', targets=[self._ui / 'ui.json'],
                        actions=[(ui.write_bundle, [self._ui])], uptodate=[False])

    @property
    def _ui(self) -> Path:
        return self.manager.output_dir / UI_DIR

    def post_build(self, manager: object) -> object:
        config = self.manager.output_dir / JUPYTERLITE_JSON
        yield self.task(name=f'patch:{JUPYTERLITE_JSON}', doc='the Pyodide kernel offline', file_dep=[config],
                        actions=[(self.patch_settings, [config])], uptodate=[False])

    # --- the work --------------------------------------------------------------------------------------------

    def write_pyodide(self) -> None:
        out = self.pyodide_dir
        out.mkdir(parents=True, exist_ok=True)
        core = pyodide.core(Config.from_env().pyodide) if self.offline else None
        python = pyodide.python_version(core) if core is not None else pyodide.PYTHON
        if core is not None:
            for name in pyodide.CORE:
                shutil.copyfile(core / name, out / name)
        wheels = self.wheels(python)
        for w in wheels:
            (out / w.filename).write_bytes(w.data)
        base = json.loads((core / 'pyodide-lock.json').read_text()) if core is not None else {}
        (out / 'pyodide-lock.json' if core is not None else out / 'wave-jupyter-lock.json').write_text(
            json.dumps(lock(base.get('info', {'python': python}), wheels)), encoding='utf-8')
        self.log.info(f'[wave_jupyter] {len(wheels)} wheels for the kernel, '
                      f'{sum(len(w.data) for w in wheels) / 1e6:.1f} MB')

    def wheels(self, python: str) -> list[packages.Wheel]:
        ours = packages.closure(OURS_IN_JUPYTERLITE, python)
        kernel = packages.closure(['comm', 'ipython', 'jedi'], python) if self.offline else []
        dists = {canonical(d): d for d in [*kernel, *ours] if canonical(d) not in FROM_THE_KERNEL}
        dists['wave-jupyter'] = metadata.distribution('wave-jupyter')
        made = []
        for name, dist in sorted(dists.items()):
            w = packages.wheel(dist, python)
            if name == 'wave-jupyter':
                w.requires = sorted({canonicalize_name(n) for n in OURS_IN_JUPYTERLITE})
            made.append(w)
        made += kernel_wheels(python)
        if self.offline:
            made.append(micropip_wheel())
        return made

    def patch_settings(self, config: Path) -> None:
        settings = self.get_lite_plugin_settings(config, PLUGIN)
        if self.offline:
            settings['pyodideUrl'] = './static/pyodide/pyodide.mjs'
            settings['disablePyPIFallback'] = True
            options = settings.setdefault('loadPyodideOptions', {})
            options['packages'] = sorted({*options.get('packages', []), *KERNEL_PACKAGES})
        self.set_lite_plugin_settings(config, PLUGIN, settings)


def canonical(dist: metadata.Distribution) -> str:
    return canonicalize_name(dist.metadata['Name'])


def kernel_wheels(python: str) -> list[packages.Wheel]:
    """The Pyodide kernel's own wheels (piplite, pyodide_kernel, its ipykernel shim, widgetsnbextension 4's stub)."""
    folder = Path(sys.prefix) / 'share' / 'jupyter' / 'labextensions' / '@jupyterlite' / \
        'pyodide-kernel-extension' / 'static' / 'pypi'
    if not folder.is_dir():
        raise FileNotFoundError(f'{folder} is missing: pip install jupyterlite-pyodide-kernel')
    made = []
    for path in sorted(folder.glob('*.whl')):
        if path.name.startswith('widgetsnbextension-3.'):
            continue
        made.append(wheel_file(path, python))
    return made


def wheel_file(path: Path, python: str) -> packages.Wheel:
    """A wheel file as :class:`.packages.Wheel` (its name, imports and requirements read from it)."""
    import zipfile
    from email.parser import Parser

    with zipfile.ZipFile(path) as z:
        meta_name = next(n for n in z.namelist() if n.endswith('.dist-info/METADATA'))
        meta = Parser().parsestr(z.read(meta_name).decode())
        tops = {n.split('/')[0].removesuffix('.py') for n in z.namelist() if '.dist-info/' not in n}
    markers = packages.pyodide_markers(python)
    requires = sorted({canonicalize_name(r.name) for r in map(Requirement, meta.get_all('Requires-Dist') or [])
                       if r.marker is None or r.marker.evaluate(markers)})
    return packages.Wheel(path.name, path.read_bytes(), canonicalize_name(meta['Name']), meta['Version'],
                          sorted(tops), requires)


def micropip_wheel() -> packages.Wheel:
    """micropip (Pyodide's, on PyPI; it needs Python 3.13, so it is not installed here): downloaded once with pip."""
    cache = pyodide.cache_dir().parent / 'wheels'
    found = sorted(cache.glob('micropip-*.whl'))
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            done = subprocess.run([sys.executable, '-m', 'pip', 'download', '-q', '--no-deps', '--only-binary=:all:',
                                   '--python-version', '3.14', '--implementation', 'py', '--abi', 'none',
                                   '--platform', 'any', '-d', tmp, MICROPIP], capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f'could not download {MICROPIP} with pip: {done.stderr[-500:]}')
            for path in Path(tmp).glob('micropip-*.whl'):
                shutil.copyfile(path, cache / path.name)
        found = sorted(cache.glob('micropip-*.whl'))
    return wheel_file(found[-1], pyodide.PYTHON)


def lock(info: dict, wheels: list[packages.Wheel]) -> dict:
    """A Pyodide lock file listing exactly ``wheels`` (each beside it), their dependencies among them."""
    names = {w.name for w in wheels}
    return {'info': info, 'packages': {w.name: {
        'name': w.name, 'version': w.version, 'file_name': w.filename, 'install_dir': 'site',
        'sha256': hashlib.sha256(w.data).hexdigest(), 'package_type': 'package', 'imports': w.imports,
        'depends': [r for r in w.requires if r in names], 'unvendored_tests': False,
    } for w in wheels}}
