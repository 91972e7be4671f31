"""The live app in a real JupyterLab (and Notebook 7), driven in headless Chromium like a person would."""

from __future__ import annotations

import pytest
from jupyter_process import JupyterServer
from support import COUNTER as SERVE
from support import output_text, run_cell, wait_for_kernel, write_notebook

CELLS = [
    SERVE.replace('VERSION', 'v1'),
    "listen('/demo', serve)",
    "apps['/demo'].last_query.args.go, apps['/demo'].page()['f']['items'][0]['button']['label']",
    SERVE.replace('VERSION', 'v2'),
    # waits (up to 15 s) for the app's clients to go away, then shows how many are left
    'import asyncio\nfor _ in range(150):\n    if not apps["/demo"].tabs:\n        break\n'
    '    await asyncio.sleep(0.1)\nlen(apps["/demo"].tabs)',
]


def notebook(root) -> str:
    write_notebook(root / 'demo.ipynb', CELLS)
    return 'demo.ipynb'


def drive(page, url: str, shots: str, lifecycle: bool = False) -> None:
    console: list[str] = []
    page.on('console', lambda m: console.append(f'{m.type}: {m.text}'))
    try:
        _drive(page, url, shots)
        if lifecycle:
            _lifecycle(page, shots)
    except Exception:
        page.screenshot(path=f'{shots}-failed.png')
        print('browser console:', *console[-60:], sep='\n  ')
        raise


def _drive(page, url: str, shots: str) -> None:
    page.set_default_timeout(30_000)
    page.goto(url)
    page.wait_for_selector('.jp-Notebook .jp-Cell')
    wait_for_kernel(page)
    run_cell(page, 0)
    run_cell(page, 1)
    app = page.frame_locator('.jp-Notebook .jp-Cell >> nth=1 >> iframe')
    app.locator('text=n=0 v1').wait_for()
    src = page.locator('.jp-Notebook .jp-Cell >> nth=1 >> iframe').get_attribute('src')
    assert '?' not in src and 'token' not in src  # never Jupyter's token; the server's secret is in the path
    app.locator('[data-test=go]').click()
    app.locator('text=n=1 v1').wait_for()
    page.screenshot(path=f'{shots}-clicked.png')
    run_cell(page, 2)
    assert "(True, 'n=1 v1')" in output_text(page, 2)  # the next cell sees what the click did
    run_cell(page, 3)  # re-define serve: hot swap, state kept
    app.locator('text=n=1 v2').wait_for()
    app.locator('[data-test=go]').scroll_into_view_if_needed()
    page.screenshot(path=f'{shots}-swapped.png')


def _lifecycle(page, shots: str) -> None:
    """Clearing the output closes that view's Wave client; a restarted kernel's view says so."""
    page.locator('.jp-Notebook .jp-Cell').nth(1).locator('.jp-InputPrompt').click()
    page.evaluate("window.jupyterapp.commands.execute('notebook:clear-cell-output')")
    assert page.locator('.jp-Notebook .jp-Cell').nth(1).locator('iframe').count() == 0
    run_cell(page, 4)
    assert output_text(page, 4).strip().endswith('0')  # the server dropped the cleared view's client
    run_cell(page, 1)  # a new view of the running app
    app = page.frame_locator('.jp-Notebook .jp-Cell >> nth=1 >> iframe')
    app.locator('text=v2').wait_for()
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:restart-kernel'); }")  # asks first
    accept = page.locator('.jp-Dialog .jp-mod-accept')
    accept.wait_for()
    accept.click()
    page.locator('.jp-Notebook .jp-Cell').nth(1).locator('text=Kernel restarted or dead').wait_for()
    page.screenshot(path=f'{shots}-restarted.png')


def drive_server(browser, server: JupyterServer, path: str, shots: str, lifecycle: bool = False) -> None:
    """``drive`` a page of ``server`` at ``path``; on failure the server's log is printed too; the server stops."""
    ctx = browser.new_context(viewport={'width': 1400, 'height': 1000})
    try:
        drive(ctx.new_page(), f'{server.url}{path}?token={server.token}', shots, lifecycle)
    except Exception:
        print(server.log_text()[-3000:])
        raise
    finally:
        ctx.close()
        server.stop()


@pytest.mark.timeout(300)
@pytest.mark.parametrize('base_url', ['/', '/user/test/'])
def test_jupyterlab_output_cell_app_click_state_and_hot_swap(browser, tmp_path, base_url):
    server = JupyterServer(tmp_path, app='lab', base_url=base_url,
                           extra_args=('--LabApp.expose_app_in_browser=True',))
    drive_server(browser, server, f'lab/tree/{notebook(tmp_path)}', str(tmp_path / f'lab{base_url.replace("/", "_")}'),
                 lifecycle=base_url == '/')


def test_notebook7_renders_the_same_output(browser, tmp_path):
    server = JupyterServer(tmp_path, app='notebook', extra_args=('--JupyterNotebookApp.expose_app_in_browser=True',))
    drive_server(browser, server, f'notebooks/{notebook(tmp_path)}', str(tmp_path / 'nb7'))


SIZES = '''from h2o_wave import ui
from wave_jupyter import Q, listen

def tall(rows):
    async def serve(q: Q):
        q.page['c'] = ui.markdown_card(box=f'1 1 3 {rows}', title=f'{rows} rows', content='')
        if q.args.grow:
            q.page['d'] = ui.markdown_card(box='1 9 3 3', title='grown', content='')
        q.page['b'] = ui.form_card(box='4 1 2 1', items=[ui.button(name='grow', label='Grow')])
        await q.page.save()
    return serve

small, big, fixed = listen('/small', tall(2)), listen('/big', tall(8)), listen('/fixed', tall(2))
fixed.height = 250
'''


def test_views_fit_their_app_and_follow_it(browser, tmp_path):
    """The view is as tall as the app's page (a small app leaves no void, a tall one does not scroll inside the
    cell), follows it when it grows, and a height given by the user is kept."""
    write_notebook(tmp_path / 'sizes.ipynb', [SIZES, 'small', 'big', 'fixed', 'import time\ntime.sleep(3)', 'small'])
    server = JupyterServer(tmp_path, app='lab', extra_args=('--LabApp.expose_app_in_browser=True',))
    ctx = browser.new_context(viewport={'width': 1400, 'height': 1000})
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(f'{server.url}lab/tree/sizes.ipynb?token={server.token}')
        page.wait_for_selector('.jp-Notebook .jp-Cell')
        wait_for_kernel(page)
        for i in range(4):
            run_cell(page, i)

        def body(i: int):
            return page.locator('.jp-Notebook .jp-Cell').nth(i).locator('.wave-jupyter-body')

        def height(i: int) -> float:
            return body(i).bounding_box()['height']

        for i, title in [(1, '2 rows'), (2, '8 rows'), (3, '2 rows')]:
            body(i).frame_locator('iframe').locator(f'text={title}').wait_for()
        page.wait_for_function('''() => [...document.querySelectorAll(".wave-jupyter-body")].slice(0, 2)
            .every(b => b.parentElement.dataset.height === "fit" && b.style.height && b.style.height !== "300px")''')
        small, big = height(1), height(2)
        assert 120 <= small < 300, small      # two rows of cards: no grey void below them
        assert 600 < big <= 1200, big         # eight rows: the whole app, no scrolling inside the cell
        assert height(3) == 250               # the user's height is kept
        body(1).frame_locator('iframe').locator('[data-test=grow]').click()
        page.wait_for_function('b => b.getBoundingClientRect().height > 600', arg=body(1).element_handle())

        # The status line: live, how many clients the app has, and whether a running cell holds the clicks back.
        view = page.locator('.jp-Notebook .jp-Cell').nth(1).locator('.wave-jupyter-view')
        assert view.locator('.wave-jupyter-state').inner_text() == 'live'
        assert view.locator('.wave-jupyter-clients').inner_text() == '1 client'
        cell = page.locator('.jp-Notebook .jp-Cell').nth(4)
        cell.locator('.jp-InputPrompt').click()
        page.keyboard.press('Shift+Enter')
        waiting = view.locator('.wave-jupyter-waiting')
        page.wait_for_function('el => el.textContent.includes("a cell is running")', arg=waiting.element_handle())
        page.wait_for_function('el => el.textContent === ""', arg=waiting.element_handle())
        run_cell(page, 5)  # a second view of /small: both say 2 clients
        page.locator('.jp-Notebook .jp-Cell').nth(5).locator('.wave-jupyter-body iframe').wait_for()
        page.wait_for_function('el => el.textContent === "2 clients"',
                               arg=view.locator('.wave-jupyter-clients').element_handle())
    except Exception:
        page.screenshot(path=str(tmp_path / "sizes-failed.png"))
        raise
    finally:
        ctx.close()
        server.stop()
