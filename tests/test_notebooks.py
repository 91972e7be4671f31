"""The teaching notebooks run top to bottom in a real kernel, and their own cells assert what they left behind."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / 'notebooks').glob('*.ipynb'))


def test_there_are_seven_numbered_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS] == ['01', '02', '03', '04', '05', '06', '07']


@pytest.mark.parametrize('path', NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, tmp_path):
    work = tmp_path / path.name
    shutil.copy(path, work)
    nb = nbformat.read(work, as_version=4)
    secret = f'notebook-secret-{path.stem}-0123456789'
    NotebookClient(nb, timeout=120, kernel_name='python3', resources={'metadata': {'path': str(tmp_path)}},
                   store_widget_state=True).execute(env={**os.environ, 'WAVE_JUPYTER_SECRET': secret})
    assert secret not in nbformat.writes(nb)  # outputs and saved widget state: nothing a saved notebook shows
    outputs = [o for c in nb.cells if c.cell_type == 'code' for o in c.get('outputs', [])]
    assert not [o for o in outputs if o.get('output_type') == 'error']
    shown = [o for o in outputs if 'application/vnd.jupyter.widget-view+json' in o.get('data', {})]
    assert shown, 'every notebook shows at least one live view or widget'
