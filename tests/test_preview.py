"""The JupyterLab preview panel (labextension/src/manager.ts, preview.ts, channel.ts) in a real JupyterLab, driven in
headless Chromium: an app started by a cell, opened beside the notebook from the toolbar, clicked, hot-swapped,
picked among several, followed through a kernel restart, and shown over the comm rung when the browser cannot reach
the kernel's port."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest
from conftest import wait_for
from jupyter_process import JupyterServer
from support import COUNTER as SERVE
from support import cut_off, output_text, run_cell, wait_for_kernel, write_notebook

REPO = Path(__file__).resolve().parent.parent
BUILT = REPO / 'wave_jupyter' / 'labextension'


CELLS = [
    SERVE.replace('VERSION', 'v1'),                                       # 0: imports wave_jupyter: the comm opens
    "demo = listen('/demo', serve)",                                       # 1: starts the app (no output)
    "q = apps['/demo'].last_query\nq.args.go, q.client.n",                 # 2: sees the click in the preview
    SERVE.replace('VERSION', 'v2'),                                       # 3: re-defines serve: hot swap
    "async def other(q: Q):\n    q.page['m'] = ui.markdown_card(box='1 1 2 2', title='OTHER', content='')\n"
    "    await q.page.save()\n\nsecond = listen('/other', other)",        # 4: a second app
    'import time\ntime.sleep(2)',                                         # 5: keeps the kernel busy
    'from wave_jupyter.jupyter import session\nlen(session.session().channel.comms)',  # 6: open comms in the kernel
    'import asyncio\nfor _ in range(100):\n    if not apps["/demo"].tabs:\n        break\n'
    '    await asyncio.sleep(0.1)\nlen(apps["/demo"].tabs)',                # 7: waits for /demo's clients to go
]

#: The app's frame in a preview: inside the kernel's view (a WaveView widget, as in an output cell).
FRAME = '.wave-jupyter-preview-view iframe.wave-jupyter-frame'
CONTENT = '.wave-jupyter-preview'
MESSAGE = '.wave-jupyter-preview-message'


class LabServer(JupyterServer):
    """JupyterLab with `window.jupyterapp`, and the extension as built in this checkout (when it is built)."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        config = root / '.jupyter'
        config.mkdir(parents=True, exist_ok=True)
        (config / 'jupyter_lab_config.json').write_text(json.dumps({'LabApp': {'expose_app_in_browser': True}}))
        if (BUILT / 'package.json').exists() and (BUILT / 'static').is_dir():
            # JUPYTER_PATH comes first: the page loads what `npm run build` made, even if the installed copy is older.
            extensions = root / '.jupyter-path' / 'labextensions'
            extensions.mkdir(parents=True)
            (extensions / 'wave-jupyter').symlink_to(BUILT, target_is_directory=True)
            monkeypatch.setenv('JUPYTER_PATH', str(root / '.jupyter-path'))
        super().__init__(root, app='lab')


def notebook(root: Path) -> str:
    write_notebook(root / 'preview.ipynb', CELLS)
    return 'preview.ipynb'


def saved_previews(server: JupyterServer) -> str:
    """The previews JupyterLab's layout restorer saved in the workspaces (saved a moment after a change)."""
    request = urllib.request.Request(f'{server.url}lab/api/workspaces',
                                     headers={'Authorization': f'token {server.token}'})
    with urllib.request.urlopen(request, timeout=10) as response:
        workspaces = json.load(response)
    return json.dumps([v for w in workspaces.get('workspaces', {}).get('values', [])
                       for k, v in w.get('data', {}).items() if k.startswith('wave-jupyter-preview:')])


def preview_of(page, route: str):
    """The preview panel of ``route`` (its toolbar names the route)."""
    return page.locator('.wave-jupyter-preview-panel').filter(
        has=page.locator('.wave-jupyter-preview-route', has_text=route))


def test_preview_panel_follows_the_live_kernel(browser, tmp_path, monkeypatch):
    server = LabServer(tmp_path, monkeypatch)
    ctx = browser.new_context(viewport={'width': 1600, 'height': 1000})
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    shots = str(tmp_path / 'preview')
    try:
        page.goto(f'{server.url}lab/tree/{notebook(tmp_path)}?token={server.token}')
        page.wait_for_selector('.jp-Notebook .jp-Cell')
        button = page.locator('.jp-NotebookPanel-toolbar .wave-jupyter-preview-button')
        button.wait_for()

        # The commands are in the palette.
        labels = page.evaluate('''() => ['wave-jupyter:open-preview', 'wave-jupyter:open-in-browser',
            'wave-jupyter:reload-preview'].map(id => window.jupyterapp.commands.label(id))''')
        assert labels == ['Wave: open app in preview panel', 'Wave: open app in a browser tab', 'Wave: reload preview']

        # The kernel first (a Shift+Enter before it is connected is dropped, and run_cell then waits to retry).
        wait_for_kernel(page)
        run_cell(page, 0)
        run_cell(page, 1)

        # The real toolbar button opens the only app beside the notebook.
        button.click()
        panel = preview_of(page, '/demo')
        panel.wait_for()
        app = panel.frame_locator(FRAME)
        app.locator('text=n=0 v1').wait_for()
        box, notebook_box = panel.bounding_box(), page.locator('.jp-NotebookPanel').bounding_box()
        assert box['x'] >= notebook_box['x'] + notebook_box['width'] - 5, 'split right of the notebook'
        assert panel.locator('.wave-jupyter-preview-status').inner_text() == 'live'

        # A click in the preview is an event the next cell sees.
        app.locator('[data-test=go]').click()
        app.locator('text=n=1 v1').wait_for()
        page.screenshot(path=f'{shots}-clicked.png')
        run_cell(page, 2)
        assert '(True, 1)' in output_text(page, 2)

        # Re-defining serve hot-swaps it: the preview shows the new handler's output, its q.client kept.
        content = panel.locator(CONTENT)
        generation, model = content.get_attribute('data-generation'), content.get_attribute('data-view')
        run_cell(page, 3)
        page.wait_for_function('([el, g]) => el.dataset.generation !== g', arg=[content.element_handle(), generation])
        app.locator('text=n=1 v2').wait_for()
        assert content.get_attribute('data-view') == model, 'a hot swap keeps the view (and its Wave client)'
        assert panel.locator('.wave-jupyter-view').get_attribute('data-rung') == "direct"
        page.screenshot(path=f'{shots}-swapped.png')

        # A long cell: the panel says the kernel is busy (the app cannot answer meanwhile), then live again.
        status = panel.locator('.wave-jupyter-preview-status')
        page.locator('.jp-Notebook .jp-Cell').nth(5).locator('.jp-InputPrompt').click()
        page.keyboard.press('Shift+Enter')
        page.wait_for_function('el => el.dataset.status === "kernel busy"', arg=status.element_handle())
        page.wait_for_function('el => el.dataset.status === "live"', arg=status.element_handle())

        # Two apps: the user picks the route.
        run_cell(page, 4)
        button.click()
        dialog = page.locator('.jp-Dialog')
        dialog.wait_for()
        options = dialog.locator('select option').all_inner_texts()
        assert sorted(options) == ['/demo', '/other'] and options[0] == '/other', options  # the latest first
        dialog.locator('select').select_option('/other')
        dialog.locator('.jp-mod-accept').click()
        preview_of(page, '/other').frame_locator(FRAME).locator('text=OTHER').wait_for()
        # ... in a tab beside the first preview, not in another split; back to /demo's tab.
        page.locator('.lm-TabBar-tab', has_text='Wave /demo').click()
        panel.wait_for()

        # The reload command (through the app object, as a key binding would) loads the app again: a new view, a new
        # Wave client.
        assert page.evaluate('() => window.jupyterapp.commands.execute("wave-jupyter:reload-preview")') >= 1
        page.wait_for_function('([el, m]) => el.dataset.view && el.dataset.view !== m',
                               arg=[content.element_handle(), model])
        app.locator('text=n=0 v2').wait_for()

        # Restarting the kernel: the preview says so instead of a frozen frame.
        page.locator('.jp-NotebookPanel-toolbar [data-jp-item-name=restart] button, '
                     '.jp-NotebookPanel-toolbar [data-jp-item-name=restart]').first.click()
        page.locator('.jp-Dialog .jp-mod-accept').click()
        message = panel.locator(MESSAGE)
        message.wait_for()
        page.wait_for_function(
            '() => /restarted/.test(document.querySelector(".wave-jupyter-preview-message")?.innerText ?? "")')
        assert re.search(r're-run the cell', message.inner_text(), re.I)
        assert panel.locator(FRAME).count() == 0
        page.screenshot(path=f'{shots}-restarted.png')

        # Starting the app again brings the preview back, on the new kernel's server.
        run_cell(page, 0)
        run_cell(page, 1)
        app.locator('text=n=0 v1').wait_for()
        assert panel.locator('.wave-jupyter-preview-status').inner_text() == 'live'
        page.screenshot(path=f'{shots}-recovered.png')

        # A page reload (settings now: open automatically, below the notebook): the front end opens the comm itself,
        # and the preview of /demo, still running in the kernel, comes back; /other's (not running) does not.
        settings = tmp_path / '.jupyter' / 'lab' / 'user-settings' / 'wave-jupyter' / 'plugin.jupyterlab-settings'
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text(json.dumps({'autoOpenPreview': True, 'previewPosition': 'split-bottom'}))
        page.on('dialog', lambda d: d.accept())

        def reload() -> None:
            page.reload()
            page.wait_for_selector('.jp-Notebook .jp-Cell')
            button.wait_for()
            wait_for_kernel(page)
            preview_of(page, '/demo').frame_locator(FRAME).locator('text=n=0 v1').wait_for()

        wait_for(lambda: '/demo' in saved_previews(server), timeout=20, what='JupyterLab to save the open previews')
        reload()
        run_cell(page, 6)
        assert preview_of(page, '/other').count() == 0
        # ... and is forgotten, so a later page load does not open it unasked once /other runs again.
        wait_for(lambda: '/other' not in saved_previews(server), timeout=20, what='the /other preview forgotten')
        page.screenshot(path=f'{shots}-restored.png')
        comms = int(output_text(page, 6).split()[-1])
        # Another reload: the page that is gone closed the comm it opened, so the kernel holds no more than before.
        reload()
        run_cell(page, 6)
        assert int(output_text(page, 6).split()[-1]) == comms, 'comms piled up in the kernel across page reloads'
        assert page.locator('.wave-jupyter-preview-panel').count() == 1

        # /demo's preview closed, a new app: its preview opens by itself, below the notebook; /demo's does not, as it
        # was running before the page loaded (it is in the snapshot /other's came after).
        page.locator('.lm-TabBar-tab', has_text='Wave /demo').locator('.lm-TabBar-tabCloseIcon').click()
        page.wait_for_function('() => !document.querySelector(".wave-jupyter-preview-panel")')
        run_cell(page, 4)
        other = preview_of(page, '/other')
        other.frame_locator(FRAME).locator('text=OTHER').wait_for()
        assert page.locator('.wave-jupyter-preview-panel').count() == 1
        box, notebook_box = other.bounding_box(), page.locator('.jp-NotebookPanel').bounding_box()
        assert box['y'] >= notebook_box['y'] + notebook_box['height'] - 5, 'split below the notebook'
        button.click()  # /demo kept running through the reloads: picked, it opens in a tab beside /other
        dialog.wait_for()
        dialog.locator('select').select_option('/demo')
        dialog.locator('.jp-mod-accept').click()
        preview_of(page, '/demo').frame_locator(FRAME).locator('text=n=0 v1').wait_for()
        page.screenshot(path=f'{shots}-reloaded.png')
    except Exception:
        page.screenshot(path=f'{shots}-failed.png')
        print(server.log_text()[-3000:])
        raise
    finally:
        ctx.close()
        server.stop()


def test_preview_panel_over_the_comm_rung(browser, tmp_path, monkeypatch):
    """No network path from the browser to the kernel's port: the panel's view falls to the comm by itself."""
    server = LabServer(tmp_path, monkeypatch)
    ctx = browser.new_context(viewport={'width': 1600, 'height': 1000})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    aborted = cut_off(ctx, keep=server.port)
    try:
        page.goto(f'{server.url}lab/tree/{notebook(tmp_path)}?token={server.token}')
        page.wait_for_selector('.jp-Notebook .jp-Cell')
        wait_for_kernel(page)
        run_cell(page, 0)
        run_cell(page, 1)
        assert page.evaluate('() => window.jupyterapp.commands.execute("wave-jupyter:open-preview")')
        panel = preview_of(page, '/demo')
        app = panel.frame_locator(FRAME)
        app.locator('text=n=0 v1').wait_for()
        assert panel.locator('.wave-jupyter-view').get_attribute('data-rung') == 'comm'
        app.locator('[data-test=go]').click()
        app.locator('text=n=1 v1').wait_for()
        run_cell(page, 2)
        assert '(True, 1)' in output_text(page, 2)  # the next cell sees the click made in the panel
        assert not [u for u in aborted if '/_s/' in u or '/wave-static/' in u]
        run_cell(page, 3)  # hot swap over the comm: q.client kept
        app.locator('text=n=1 v2').wait_for()

        # Closing the panel closes its view in the kernel, and with it the Wave client.
        page.locator('.lm-TabBar-tab', has_text='Wave /demo').locator('.lm-TabBar-tabCloseIcon').click()
        page.wait_for_function('() => !document.querySelector(".wave-jupyter-preview-panel")')
        run_cell(page, 7)
        assert output_text(page, 7).split()[-1] == '0'
    except Exception:
        page.screenshot(path=str(tmp_path / 'preview-comm-failed.png'))
        print(server.log_text()[-3000:])
        raise
    finally:
        ctx.close()
        server.stop()
