"""The teaching notebooks run top to bottom in a real kernel, and their own cells assert what they left behind."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import nbformat
import pytest
from conftest import wait_for
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


#: What each notebook's text says its live views show once every cell ran.
SHOWN = {
    '01_hello_wave': ['Changed from a notebook cell!'],
    '02_forms_and_state': ['app visits:'],
    '03_the_protocol_visible': ['Count=0'],
    '04_realtime': ['This app was stopped'],  # after its plot played (the last cell waits for it)
    '05_multi_user_modes': ['broadcast: 1', 'broadcast: 1'],
    '06_routing_and_files': ['Pick something.'],
    '07_notebook_to_production': ['This app was stopped'],  # its last cell stops it, once waved served its list
}


def views_showing(page, text: str) -> int:
    """How many of the page's live views show ``text`` now: in the app, or in the view's own message."""
    frames = '.jp-Notebook .wave-jupyter-body iframe'
    in_app = sum(1 for k in range(page.locator(frames).count())
                 if page.frame_locator(f'{frames} >> nth={k}').get_by_text(text).count())
    return in_app + page.locator('.jp-Notebook .wave-jupyter-message', has_text=text).count()


@pytest.mark.timeout(600)
def test_run_all_in_jupyterlab_shows_what_each_notebook_says(browser, tmp_path):
    """A learner's "Run All": every cell runs while the views are still being drawn; afterwards each view shows what
    the notebook's text says it shows."""
    from jupyter_process import JupyterServer
    for path in NOTEBOOKS:
        shutil.copy(path, tmp_path / path.name)
    assert set(SHOWN) == {p.stem for p in NOTEBOOKS}
    server = JupyterServer(tmp_path, app='lab', extra_args=('--LabApp.expose_app_in_browser=True',))
    ctx = browser.new_context(viewport={'width': 1400, 'height': 1000})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    try:
        for path in NOTEBOOKS:
            page.goto(f'{server.url}lab/tree/{path.name}?token={server.token}&reset')
            page.wait_for_selector('.jp-Notebook .jp-Cell')
            page.wait_for_function('''() => { const s = window.jupyterapp.shell.currentWidget?.sessionContext;
                return s?.session?.kernel?.connectionStatus === "connected" && s.session.kernel.status === "idle"; }''')
            page.evaluate('() => window.jupyterapp.commands.execute("notebook:run-all-cells")')
            # Read from the model: JupyterLab does not render the cells out of view.
            page.wait_for_function('''() => { const cells = window.jupyterapp.shell.currentWidget.content.widgets
                .filter(c => c.model.type === "code");
                return cells.length && cells.every(c => c.model.executionCount); }''', timeout=120_000)
            errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
            assert page.locator('.jp-RenderedText[data-mime-type="application/vnd.jupyter.error"]').count() == 0, \
                f'{path.name}: a cell failed: {errors.all_inner_texts()}'
            for text, n in Counter(SHOWN[path.stem]).items():
                wait_for(lambda text=text, n=n: views_showing(page, text) >= n, timeout=60,
                         what=f'{path.name}: {n} view(s) showing {text!r}')
            page.screenshot(path=str(tmp_path / f'run-all-{path.stem}.png'))
            page.evaluate('() => window.jupyterapp.commands.execute("kernelmenu:shutdown")')
    except Exception:
        page.screenshot(path=str(tmp_path / 'run-all-failed.png'))
        print(server.log_text()[-3000:])
        raise
    finally:
        ctx.close()
        server.stop()
