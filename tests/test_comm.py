"""The comm rung: the whole Wave UI over the widget's comm, in a real JupyterLab whose browser cannot reach the
kernel's port, with our lab extension disabled (as in VS Code or Colab, where only anywidget is there)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import nbformat
import pytest
from jupyter_server import JupyterServer
from test_jupyterlab import output_text, run_cell, wait_for_kernel

SERVE = '''from h2o_wave import ui
from wave_jupyter import Q, apps, listen

async def serve(q: Q):
    q.client.n = (q.client.n or 0) + (1 if q.args.go else 0)
    if q.args.up:
        q.client.body = open(await q.site.download(q.args.up[0], '.'), encoding='utf-8').read()
    q.page['f'] = ui.form_card(box='1 1 3 4', items=[
        ui.textbox(name='who', label='Who'), ui.button(name='go', label=f'n={q.client.n} VERSION'),
        ui.file_upload(name='up', label='Upload'), ui.text(f'body={q.client.body}')])
    await q.page.save()
'''

CELLS = [
    SERVE.replace('VERSION', 'v1') + "\nlisten('/demo', serve)",
    "apps['/demo'].last_query.args.go, apps['/demo'].last_query.args.who",
    SERVE.replace('VERSION', 'v2'),
]


def disable_our_extension(root) -> None:
    env = {**os.environ, 'JUPYTER_CONFIG_DIR': str(root / '.jupyter')}
    subprocess.run([sys.executable, '-m', 'jupyter', 'labextension', 'disable', '--level=user', 'wave-jupyter'],
                   env=env, check=True, capture_output=True)


@pytest.fixture
def lab(tmp_path):
    disable_our_extension(tmp_path)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
    nbformat.write(nb, tmp_path / 'demo.ipynb')
    server = JupyterServer(tmp_path, app='lab', extra_args=('--LabApp.expose_app_in_browser=True',))
    yield server
    server.stop()


def cut_off_the_kernels_port(page, jupyter_port: int) -> list[str]:
    """Abort every request to a loopback port other than Jupyter's, and any jupyter-server-proxy route."""
    aborted: list[str] = []
    other_port = re.compile(rf'^https?://(127\.0\.0\.1|localhost):(?!{jupyter_port}/)\d+/')

    def abort(route):
        aborted.append(route.request.url)
        route.abort()
    page.route(other_port, abort)
    page.route(re.compile(r'/proxy/\d+/'), abort)
    return aborted


def test_the_app_runs_over_the_comm_without_our_extension_or_a_network_path(browser, lab, tmp_path):
    ctx = browser.new_context(viewport={'width': 1400, 'height': 1000})
    page = ctx.new_page()
    console: list[str] = []
    page.on('console', lambda m: console.append(f'{m.type}: {m.text}'))
    page.set_default_timeout(60_000)
    aborted = cut_off_the_kernels_port(page, lab.port)
    try:
        page.goto(f'{lab.url}lab/tree/demo.ipynb?token={lab.token}')
        page.wait_for_selector('.jp-Notebook .jp-Cell')
        wait_for_kernel(page)
        run_cell(page, 0)
        view = page.locator('.jp-Notebook .jp-Cell >> nth=0 >> .wave-jupyter-view')
        view.wait_for()
        app = page.frame_locator('.jp-Notebook .jp-Cell >> nth=0 >> iframe.wave-jupyter-frame')
        app.locator('text=n=0 v1').wait_for()
        assert view.get_attribute('data-rung') == 'comm'
        app.locator('[data-test=who]').fill('Ada')
        app.locator('[data-test=go]').click()
        app.locator('text=n=1 v1').wait_for()
        run_cell(page, 1)
        assert "(True, 'Ada')" in output_text(page, 1)  # the next cell sees what the click did
        assert not [u for u in aborted if '/_s/' in u or '/wave-static/' in u]  # nothing went to the port
        src = tmp_path / 'hello.txt'
        src.write_text('over the comm')
        app.locator('input[type=file]').set_input_files(str(src))
        app.locator('button:has-text("Upload")').click()
        app.locator('text=body=over the comm').wait_for()
        run_cell(page, 2)  # hot swap
        app.locator('text=n=1 v2').wait_for()
        page.screenshot(path=str(tmp_path / 'comm.png'))
    except Exception:
        page.screenshot(path=str(tmp_path / 'comm-failed.png'))
        print('browser console:', *console[-60:], sep='\n  ')
        print(lab.log_text()[-3000:])
        raise
    finally:
        ctx.close()
