"""wave_jupyter in JupyterLite, with no network: a site made by a plain ``jupyter lite build --contents DIR
--output-dir SITE`` (our addon comes through JupyterLite's entry point), served by a static file server, opened in
Chromium with every request that is not to that server aborted. The kernel is Pyodide in the page's worker."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import StaticServer, write_notebook

ROOT = Path(__file__).resolve().parents[1]
#: Building a site and booting Python cold take a while on a 2-core machine.
pytestmark = pytest.mark.timeout(600)
JUPYTER = Path(sys.executable).with_name('jupyter')
SERVE = '''from h2o_wave import ui
from wave_jupyter import Q, apps, listen

async def serve(q: Q):
    q.client.n = (q.client.n or 0) + (1 if q.args.go else 0)
    q.page['f'] = ui.form_card(box='1 1 3 3', items=[ui.button(name='go', label=f'n={q.client.n} VERSION')])
    await q.page.save()
'''
CELLS = [SERVE.replace('VERSION', 'v1') + "\nlisten('/demo', serve)", "apps['/demo'].last_query.args.go",
         SERVE.replace('VERSION', 'v2')]
KERNEL_IDLE = ('() => { const k = window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel;'
               ' return !!k && k.status === "idle"; }')


@pytest.fixture(scope='module')
def site(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp('jupyterlite')
    contents = work / 'contents'
    contents.mkdir()
    write_notebook(contents / 'demo.ipynb', CELLS, {'name': 'python', 'display_name': 'Python (Pyodide)',
                                                    'language': 'python'})
    shutil.copy(ROOT / 'notebooks' / '01_hello_wave.ipynb', contents)
    # Only for the test to drive the page (window.jupyterapp); the site needs no configuration of its own.
    (work / 'jupyter-lite.json').write_text(json.dumps(
        {'jupyter-lite-schema-version': 0, 'jupyter-config-data': {'exposeAppInBrowser': True}}))
    done = subprocess.run([str(JUPYTER), 'lite', 'build', '--contents', str(contents), '--output-dir', 'site',
                           '--no-sourcemaps'], cwd=work, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert 'build:wave-jupyter:wheels' in done.stdout  # our addon ran, found through the entry point
    return work / 'site'


@pytest.fixture(scope='module')
def static(site):
    server = StaticServer(site)
    yield server
    server.close()


@pytest.fixture
def lite_page(browser, static):
    ctx = browser.new_context(viewport={'width': 1300, 'height': 1000})
    aborted: list[str] = []

    def route(r):
        if r.request.url.startswith(static.origin + '/'):
            r.continue_()
        else:
            aborted.append(r.request.url)
            r.abort()

    ctx.route('**/*', route)
    page = ctx.new_page()
    # JupyterLite's kernel socket is a stand-in inside the page (mock-socket), so Playwright's WebSocket routing is
    # not used here; a real WebSocket anywhere would show up as one.
    page.on('websocket', lambda ws: aborted.append(ws.url))
    page.set_default_timeout(60_000)
    yield page
    ctx.close()
    assert not aborted, f'requests left the site: {aborted}'


def open_notebook(page, static, name: str) -> None:
    """Open a notebook and wait for its kernel. A notebook saved with another kernel (``python3``, as ours are)
    makes JupyterLite ask which kernel to start: its default (Pyodide) is accepted, as a person would."""
    page.goto(f'{static.origin}/lab/index.html?path={name}')
    deadline = time.monotonic() + 180
    while not page.evaluate(KERNEL_IDLE):
        accept = page.locator('.jp-Dialog .jp-mod-accept')
        if accept.count() and accept.is_visible():
            accept.click()
        assert time.monotonic() < deadline, f'the kernel of {name} did not start'
        page.wait_for_timeout(200)


def run(page, index: int) -> None:
    """Run cell ``index`` and wait until it has executed."""
    page.evaluate('''(i) => { const nb = window.jupyterapp.shell.currentWidget.content;
        nb.model.cells.get(i).executionCount = null; nb.activeCellIndex = i;
        return window.jupyterapp.commands.execute('notebook:run-cell'); }''', index)
    page.wait_for_function('''(i) => { const nb = window.jupyterapp.shell.currentWidget.content;
        return nb.model.cells.get(i).executionCount !== null
            && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'; }''',
                           arg=index, timeout=120_000)


def output(page, index: int) -> str:
    return page.locator('.jp-Notebook .jp-Cell').nth(index).locator('.jp-OutputArea').inner_text()


def test_a_notebook_shows_the_live_app_and_the_next_cell_sees_the_click(lite_page, static):
    page = lite_page
    open_notebook(page, static, 'demo.ipynb')
    run(page, 0)
    frame = page.frame_locator('.jp-Notebook .jp-Cell >> nth=0 >> iframe.wave-jupyter-frame')
    frame.locator('text=n=0 v1').wait_for()
    assert page.locator('.wave-jupyter-view').first.get_attribute('data-rung') == 'comm'  # no server to reach
    frame.locator('[data-test=go]').click()
    frame.locator('text=n=1 v1').wait_for()
    run(page, 1)
    assert output(page, 1).strip().endswith('True')  # apps['/demo'].last_query, from the next cell
    run(page, 2)  # hot swap: the view re-runs the new handler, its q.client kept
    frame.locator('text=n=1 v2').wait_for()


def test_a_teaching_notebook_runs_cell_by_cell(lite_page, static):
    """Notebook 01, as a student runs it: each cell in turn. (Under Run All the view would connect only after the
    last cell: the Pyodide kernel, like ipykernel 6, holds a view's comm messages while a cell runs.)"""
    page = lite_page
    open_notebook(page, static, '01_hello_wave.ipynb')
    count = page.evaluate('() => window.jupyterapp.shell.currentWidget.content.model.cells.length')
    frame = page.frame_locator('.jp-Notebook .jp-Cell >> iframe.wave-jupyter-frame').first
    kind = '(i) => window.jupyterapp.shell.currentWidget.content.model.cells.get(i).type'
    for index in range(count):
        if page.evaluate(kind, index) != 'code':
            continue
        run(page, index)
        if page.locator('.jp-Notebook .jp-Cell').nth(index).locator('iframe.wave-jupyter-frame').count():
            frame.locator('text=Nobody greeted yet.').wait_for()  # the view is live before the next cell
    frame.locator('text=Changed from a notebook cell!').wait_for()  # what the notebook says its view shows
    errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    assert not [t for t in errors.all_inner_texts() if 'Traceback' in t]
