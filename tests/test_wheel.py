"""The wheel carries the prebuilt JupyterLab extension: a fresh environment needs only `pip install`."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope='module')
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp('wheel')
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '-q', '-w', str(out), str(ROOT)], check=True,
                   timeout=600)
    (path,) = out.glob('wave_jupyter-*.whl')
    return path


def test_wheel_ships_the_prebuilt_extension(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    prefix = 'wave_jupyter-0.1.0.data/data/share/jupyter/labextensions/wave-jupyter/'
    assert f'{prefix}package.json' in names and f'{prefix}install.json' in names
    assert any(n.startswith(f'{prefix}static/remoteEntry.') for n in names)
    assert not any('node_modules' in n for n in names)
    assert 'wave_jupyter/jupyter/static/view.js' in names  # the live view's bundled front end (build-web.mjs)


@pytest.mark.timeout(600)
def test_fresh_environment_lists_the_extension_enabled_and_ok(wheel, tmp_path):
    env = tmp_path / 'env'
    subprocess.run([sys.executable, '-m', 'venv', str(env)], check=True)
    pip = [str(env / 'bin' / 'python'), '-m', 'pip', 'install', '-q', '--disable-pip-version-check']
    subprocess.run([*pip, str(wheel), 'jupyterlab>=4,<5'], check=True, timeout=600)
    listed = subprocess.run([str(env / 'bin' / 'jupyter'), 'labextension', 'list'], capture_output=True, text=True,
                            timeout=120, env={**os.environ, 'JUPYTER_PATH': '', 'JUPYTER_CONFIG_DIR': str(tmp_path)})
    out = listed.stdout + listed.stderr
    line = next((li for li in out.splitlines() if 'wave-jupyter' in li), '')
    assert 'enabled' in line and 'OK' in line and str(env) in out, out
    assert 'Build recommended' not in out
