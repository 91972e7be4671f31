"""The live app in a real JupyterLab (and Notebook 7), driven in headless Chromium like a person would."""

from __future__ import annotations

import time

import nbformat
import pytest
from jupyter_server import JupyterServer

SERVE = '''from h2o_wave import ui
from wave_jupyter import Q, apps, listen

async def serve(q: Q):
    q.client.n = (q.client.n or 0) + (1 if q.args.go else 0)
    q.page['f'] = ui.form_card(box='1 1 3 3', items=[ui.button(name='go', label=f'n={q.client.n} VERSION')])
    await q.page.save()
'''

CELLS = [
    SERVE.replace('VERSION', 'v1'),
    "listen('/demo', serve)",
    "apps['/demo'].last_query.args.go, apps['/demo'].page()['f']['items'][0]['button']['label']",
    SERVE.replace('VERSION', 'v2'),
]


def notebook(root) -> str:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
    nbformat.write(nb, root / 'demo.ipynb')
    return 'demo.ipynb'


def run_cell(page, index: int, timeout: float = 60) -> None:
    """Select cell ``index`` in command mode and run it (Shift+Enter), waiting until it has executed.

    JupyterLab may first ask which kernel to start: the dialog is accepted as a person would.
    """
    cell = page.locator('.jp-Notebook .jp-Cell').nth(index)
    cell.locator('.jp-InputPrompt').click()
    page.keyboard.press('Escape')
    before = cell.locator('.jp-InputPrompt').inner_text()
    page.keyboard.press('Shift+Enter')
    done = ('([i, before]) => { const p = document.querySelectorAll(".jp-Notebook .jp-Cell")[i]'
            '.querySelector(".jp-InputPrompt").innerText; return p !== before && !p.includes("*"); }')
    deadline = time.monotonic() + timeout
    while not page.evaluate(done, [index, before]):
        accept = page.locator('.jp-Dialog .jp-mod-accept')
        if accept.count() and accept.is_visible():
            accept.click()
        assert time.monotonic() < deadline, f'cell {index} did not finish in {timeout}s'
        page.wait_for_timeout(100)


def output_text(page, index: int) -> str:
    return page.locator('.jp-Notebook .jp-Cell').nth(index).locator('.jp-OutputArea').inner_text()


def drive(page, url: str, shots: str) -> None:
    try:
        _drive(page, url, shots)
    except Exception:
        page.screenshot(path=f'{shots}-failed.png')
        raise


def _drive(page, url: str, shots: str) -> None:
    page.set_default_timeout(30_000)
    page.goto(url)
    page.wait_for_selector('.jp-Notebook .jp-Cell')
    run_cell(page, 0)
    run_cell(page, 1)
    app = page.frame_locator('.jp-Notebook .jp-Cell >> nth=1 >> iframe')
    app.locator('text=n=0 v1').wait_for()
    app.locator('[data-test=go]').click()
    app.locator('text=n=1 v1').wait_for()
    page.screenshot(path=f'{shots}-clicked.png')
    run_cell(page, 2)
    assert "(True, 'n=1 v1')" in output_text(page, 2)  # the next cell sees what the click did
    run_cell(page, 3)  # re-define serve: hot swap, state kept
    app.locator('text=n=1 v2').wait_for()
    app.locator('[data-test=go]').scroll_into_view_if_needed()
    page.screenshot(path=f'{shots}-swapped.png')


@pytest.mark.parametrize('base_url', ['/', '/user/test/'])
def test_jupyterlab_output_cell_app_click_state_and_hot_swap(browser, tmp_path, base_url):
    server = JupyterServer(tmp_path, app='lab', base_url=base_url)
    ctx = browser.new_context(viewport={'width': 1400, 'height': 1000})
    try:
        name = notebook(tmp_path)
        drive(ctx.new_page(), f'{server.url}lab/tree/{name}?token={server.token}',
              str(tmp_path / f'lab{base_url.replace("/", "_")}'))
    finally:
        ctx.close()
        server.stop()


def test_notebook7_renders_the_same_output(browser, tmp_path):
    server = JupyterServer(tmp_path, app='notebook')
    ctx = browser.new_context(viewport={'width': 1400, 'height': 1000})
    try:
        name = notebook(tmp_path)
        drive(ctx.new_page(), f'{server.url}notebooks/{name}?token={server.token}', str(tmp_path / 'nb7'))
    finally:
        ctx.close()
        server.stop()
