"""The comm rung: the whole Wave UI over the widget's comm, in a real JupyterLab and Notebook 7 whose browser cannot
reach the kernel's port, with our lab extension disabled (as in VS Code or Colab, where only anywidget is there)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from jupyter_process import JupyterServer
from support import cut_off, output_text, run_cell, wait_for_kernel, write_notebook

SERVE = '''from h2o_wave import ui
from wave_jupyter import Q, apps, listen

def card(q):
    items = [ui.textbox(name='who', label='Who'), ui.button(name='go', label=f'n={q.client.n} VERSION'),
             ui.button(name='tick', label='Tick'), ui.file_upload(name='up', label='Upload'),
             ui.text(f'body={q.client.body}'), ui.text(f'tick={q.client.tick}')]
    if q.client.up:
        items.append(ui.link(label='Get it back', path=q.client.up, download=True))
    return ui.form_card(box='1 1 4 7', items=items)

async def serve(q: Q):
    q.client.n = (q.client.n or 0) + (1 if q.args.go else 0)
    if q.args.up:
        q.client.up = q.args.up[0]
        q.client.body = open(await q.site.download(q.args.up[0], '.'), encoding='utf-8').read()
    q.page['f'] = card(q)
    await q.page.save()
    if q.args.tick:
        for i in range(1, 4):  # a realtime loop: several saves from one query
            await q.sleep(0.05)
            q.client.tick = i
            q.page['f'] = card(q)
            await q.page.save()
'''

# The kernel's listening TCP sockets before the app starts (its ZMQ channels and the like), and the ones added since.
LISTENING = '''import psutil
def listening():
    return {c.laddr.port for c in psutil.Process().net_connections('tcp') if c.status == psutil.CONN_LISTEN}
'''
BEFORE = LISTENING + 'before = listening()\n'
# Which UI files the kernel sent over the comm, per request (counted once, however often cell 0 runs).
COUNT_ASSETS = '''import wave_jupyter.commlink as _commlink
if not hasattr(_commlink.CommLink._on_assets, 'requests'):
    def _counted(self, message, buffers, _sent=_commlink.CommLink._on_assets):
        _counted.requests.append(len(message.get('names') or []))
        return _sent(self, message, buffers)
    _counted.requests = []
    _commlink.CommLink._on_assets = _counted
'''
OUR_PORTS = "print('ours:', sorted(listening() - before))"

WAIT_NO_TABS = ('import asyncio\nfor _ in range(150):\n    if not apps["/demo"].tabs:\n        break\n'
                '    await asyncio.sleep(0.1)\nlen(apps["/demo"].tabs)')


def cells(transport: str | None) -> list[str]:
    option = f", transport='{transport}'" if transport else ''
    return [
        BEFORE + COUNT_ASSETS + SERVE.replace('VERSION', 'v1') + f"\nlisten('/demo', serve{option})",
        "apps['/demo'].last_query.args.go, apps['/demo'].last_query.args.who",
        SERVE.replace('VERSION', 'v2'),
        OUR_PORTS,
        WAIT_NO_TABS,
        "print('asset requests:', _commlink.CommLink._on_assets.requests)",
    ]


def disable_our_extension(root) -> None:
    env = {**os.environ, 'JUPYTER_CONFIG_DIR': str(root / '.jupyter')}
    subprocess.run([sys.executable, '-m', 'jupyter', 'labextension', 'disable', '--level=user', 'wave-jupyter'],
                   env=env, check=True, capture_output=True)


def start(root, app: str, transport: str | None) -> JupyterServer:
    disable_our_extension(root)
    write_notebook(root / 'demo.ipynb', cells(transport))
    expose = 'LabApp' if app == 'lab' else 'JupyterNotebookApp'
    return JupyterServer(root, app=app, extra_args=(f'--{expose}.expose_app_in_browser=True',))


def app_frame(page):
    return page.frame_locator('.jp-Notebook .jp-Cell >> nth=0 >> iframe.wave-jupyter-frame')


@pytest.mark.parametrize('app,transport', [('lab', None), ('notebook', None), ('lab', 'comm')],
                         ids=['jupyterlab-auto', 'notebook7-auto', 'jupyterlab-comm-no-port'])
def test_the_app_runs_over_the_comm_without_our_extension_or_a_network_path(browser, tmp_path, app, transport):
    server = start(tmp_path, app, transport)
    ctx = browser.new_context(viewport={'width': 1400, 'height': 1000}, accept_downloads=True)
    page = ctx.new_page()
    console: list[str] = []
    page.on('console', lambda m: console.append(f'{m.type}: {m.text}'))
    page.set_default_timeout(60_000)
    aborted = cut_off(ctx, keep=server.port)
    path = 'lab/tree/demo.ipynb' if app == 'lab' else 'notebooks/demo.ipynb'
    try:
        page.goto(f'{server.url}{path}?token={server.token}')
        page.wait_for_selector('.jp-Notebook .jp-Cell')
        wait_for_kernel(page)
        run_cell(page, 0)
        view = page.locator('.jp-Notebook .jp-Cell >> nth=0 >> .wave-jupyter-view')
        frame = app_frame(page)
        frame.locator('text=n=0 v1').wait_for()
        assert view.get_attribute('data-rung') == 'comm'
        # The package's server extension is on: kernel WebSockets without Nagle's delay (see serverext.py).
        assert 'wave_jupyter.serverext | extension was successfully loaded' in server.log_text()
        untracked = page.evaluate('''() => JSON.parse(document.getElementById("jupyter-config-data").textContent)
            .untracked_message_types''')
        assert 'comm_msg' in untracked and 'kernel_info_request' in untracked  # added to the page's list, not instead
        assert 'live' in view.locator('.wave-jupyter-state').inner_text()
        frame.locator('[data-test=who]').fill('Ada')
        frame.locator('[data-test=go]').click()
        frame.locator('text=n=1 v1').wait_for()
        run_cell(page, 1)
        assert "(True, 'Ada')" in output_text(page, 1)  # the next cell sees what the click did
        assert not [u for u in aborted if '/_s/' in u or '/wave-static/' in u]  # nothing went to the port
        run_cell(page, 3)
        ours = output_text(page, 3)
        if transport == 'comm':
            assert 'ours: []' in ours  # no listening socket of ours in the kernel
        else:
            assert re.search(r'ours: \[\d+\]', ours)  # auto: one port is open, the browser just cannot reach it
        if app == 'lab':
            _files_realtime_swap_and_lifecycle(page, frame, tmp_path)
        page.screenshot(path=str(tmp_path / f'comm-{app}.png'))
    except Exception:
        page.screenshot(path=str(tmp_path / 'comm-failed.png'))
        print('browser console:', *console[-60:], sep='\n  ')
        print(server.log_text()[-3000:])
        raise
    finally:
        ctx.close()
        server.stop()


def _files_realtime_swap_and_lifecycle(page, frame, tmp_path) -> None:
    src = tmp_path / 'hello.txt'
    src.write_text('over the comm')
    frame.locator('input[type=file]').set_input_files(str(src))
    frame.locator('button:has-text("Upload")').click()
    frame.locator('text=body=over the comm').wait_for()
    with page.expect_download() as download:  # a download link of the app, served over the comm
        frame.locator('text=Get it back').click()
    assert Path(download.value.path()).read_text(encoding='utf-8') == 'over the comm'
    frame.locator('[data-test=tick]').click()  # several saves from one query arrive in order
    frame.locator('text=tick=3').wait_for()
    assert page.evaluate('''() => [...document.querySelectorAll('iframe.wave-jupyter-frame')].every(
        f => f.contentDocument === null)''')  # the frame is sandboxed: the notebook cannot read into it
    run_cell(page, 2)  # hot swap: the view re-runs the new handler, its q.client kept
    frame.locator('text=n=1 v2').wait_for()
    page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')")
    page.reload()  # the view comes back from the running kernel (a new tab of the app, as any page reload is)
    page.wait_for_selector('.jp-Notebook .jp-Cell')
    wait_for_kernel(page)
    app_frame(page).locator('text=n=0 v2').wait_for()
    run_cell(page, 5)  # the reloaded page's view started from the browser's cache: no UI file crossed the comm again
    requests = output_text(page, 5).split('asset requests:')[-1].strip()
    assert re.fullmatch(r'\[\d{3}\]', requests), requests  # one request, for all (~400) files, by the first view
    page.locator('.jp-Notebook .jp-Cell').nth(0).locator('.jp-InputPrompt').click()
    page.evaluate("window.jupyterapp.commands.execute('notebook:clear-cell-output')")
    run_cell(page, 4)
    assert output_text(page, 4).strip().endswith('0')  # clearing the output dropped the view's client
    run_cell(page, 0)
    app_frame(page).locator('text=v1').wait_for()
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:restart-kernel'); }")
    accept = page.locator('.jp-Dialog .jp-mod-accept')
    accept.wait_for()
    accept.click()
    page.locator('.jp-Notebook .jp-Cell').nth(0).locator('text=Kernel restarted or dead').wait_for()
