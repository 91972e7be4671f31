"""The live view in frontends other than JupyterLab: VS Code's own widget renderer in a test host, Voilà, marimo and
nbclassic, each driven in Chromium. In each: the app renders, a typed value and a click come back, what a cell (or
a widget, a reactive cell) reads sees the click; on the comm rung, with ``transport='comm'`` and with ``auto`` while
every request to the kernel's port is aborted; and the console stays clean.

Servers are shared where the frontend allows: one Jupyter server for the VS Code host's tests, one nbclassic for its
three; Voilà and marimo are their own servers, one per notebook. About 70 s in all."""

from __future__ import annotations

import mimetypes
import os
import re
import secrets
import shutil
import subprocess
import sys
import textwrap
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat
import pytest
from conftest import wait_for
from jupyter_process import JupyterServer, free_port
from support import Console, cut_off

from wave_jupyter.production import stop_process

ROOT = Path(__file__).resolve().parents[1]
HOST = ROOT / 'tests' / 'vscode_host' / 'build'
NBEXTENSIONS = Path(sys.prefix) / 'share' / 'jupyter' / 'nbextensions'
pytestmark = pytest.mark.timeout(300)

SERVE = '''from h2o_wave import ui
from wave_jupyter import Q, apps, listen

async def serve(q: Q):
    q.client.n = (q.client.n or 0) + (1 if q.args.go else 0)
    q.page['f'] = ui.form_card(box='1 1 3 3', items=[
        ui.textbox(name='who', label='Who'), ui.button(name='go', label=f'n={q.client.n}')])
    q.page['out'] = ui.markdown_card(box='4 1 3 3', title='Out', content=f'who={q.args.who or ""}')
    await q.page.save()
'''
LAST = "apps['/demo'].last_query.args.who"
PORT = "from wave_jupyter import server_of\nprint('port', getattr(server_of(apps['/demo']), 'port', 0))"


#: The webview's origin: not loopback by name (a vscode-webview:// origin is not), served by the test's own routes.
WEBVIEW = 'https://vscode-webview.test'


def serve_webview(ctx, site: Path) -> None:
    """Answer the webview's origin from ``site`` in the browser itself (no server, no name to resolve)."""
    def answer(route):
        path = (site / urllib.parse.urlsplit(route.request.url).path.lstrip('/')).resolve()
        if site in path.parents and path.is_file():
            route.fulfill(path=path, content_type=mimetypes.guess_type(path.name)[0] or 'application/octet-stream')
        else:
            route.fulfill(status=404, body='not found')

    ctx.route(re.compile(rf'^{re.escape(WEBVIEW)}/'), answer)


@pytest.fixture(scope='module')
def vscode_host(tmp_path_factory):
    if not (HOST / 'host.js').is_file():
        pytest.fail(f'{HOST} is not built: (cd tests/vscode_host && npm ci && npm run build)')
    site = tmp_path_factory.mktemp('webview').resolve()
    shutil.copytree(HOST, site, dirs_exist_ok=True)
    shutil.copytree(NBEXTENSIONS, site / 'nbextensions')
    root = tmp_path_factory.mktemp('vscode-kernel')
    server = JupyterServer(root, app='server', extra_args=(f'--ServerApp.allow_origin={WEBVIEW}',))
    yield site, server
    server.stop()


@pytest.mark.parametrize('transport', ['comm', 'auto'])
def test_vscodes_widget_renderer_shows_the_app_over_the_comm(browser, vscode_host, transport):
    site, server = vscode_host
    origin = WEBVIEW
    ctx = browser.new_context(viewport={'width': 1200, 'height': 900})
    serve_webview(ctx, site)
    ctx.grant_permissions(['local-network-access'], origin=WEBVIEW)  # the host's kernel socket
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    console = Console(page)
    aborted = cut_off(ctx, keep=server.port)
    try:
        page.goto(f'{origin}/workbench.html?server={server.url}&token={server.token}&nbextensions={origin}/nbextensions')
        webview = page.frame_locator('#webview')
        host = next(f for f in page.frames if f.url.startswith(f'{origin}/webview.html'))
        host.wait_for_function('window.hostReady || window.hostError', timeout=120_000)
        assert not host.evaluate('window.hostError')
        host.evaluate('(code) => run(code)', f"{SERVE}\nlisten('/demo', serve, transport='{transport}')")
        # The kernel's port, if it opened one: the view must not need it (the comm carries everything).
        port = int(host.evaluate('(code) => run(code)', PORT).split()[-1])
        assert (port == 0) == (transport == 'comm')
        app = webview.frame_locator('iframe.wave-jupyter-frame')
        app.locator('text=n=0').wait_for()
        assert webview.locator('.wave-jupyter-view').get_attribute('data-rung') == 'comm'
        app.locator('[data-test=who]').fill('Ada')
        app.locator('[data-test=go]').click()
        app.locator('text=n=1').wait_for()
        app.locator('text=who=Ada').wait_for()
        assert host.evaluate('(code) => run(code)', LAST).strip() == "'Ada'"  # the next cell sees the click
        assert not [u for u in aborted if '/_s/' in u or 'wave-static' in u]
        assert console.clean(aborted) == [], console.clean(aborted)
    except Exception:
        page.screenshot(path='/tmp/vscode-failed.png')
        print('console:', *console.lines[-40:], sep='\n  ')
        for f in page.frames:
            try:
                print('FRAME', f.url[:80], f.evaluate('document.body.innerText')[:500])
            except Exception as e:  # noqa: BLE001 - a frame that went away while it was read
                print('FRAME', f.url[:80], e)
        raise
    finally:
        ctx.close()


# --- the apps' part, the same in every frontend ---------------------------------------------------------------------


def click_through(app) -> None:
    """In the app's frame: it renders, a typed value and a click come back."""
    app.locator('text=n=0').wait_for()
    app.locator('[data-test=who]').fill('Ada')
    app.locator('[data-test=go]').click()
    app.locator('text=n=1').wait_for()
    app.locator('text=who=Ada').wait_for()


def app_cell(transport: str) -> str:
    return f"{SERVE}\nlisten('/demo', serve, transport='{transport}')"


def rung_of(page) -> str:
    view = page.locator('.wave-jupyter-view[data-rung]')
    view.wait_for()  # a Playwright call: the test's routes answer while it waits (a sleep would starve them)
    return view.get_attribute('data-rung')


def dump(page, console: Console, name: str) -> None:
    page.screenshot(path=f'/tmp/{name}-failed.png')
    print('console:', *console.lines[-40:], sep='\n  ')


class Served:
    """A frontend's own server (Voilà, marimo) on a free loopback port, its log in ``root``, until :meth:`stop`."""

    def __init__(self, root: Path, args: list[str], ready: str) -> None:
        self.port = free_port()
        self.origin = f'http://127.0.0.1:{self.port}'
        self.log = root / f'{Path(args[0]).name}-{self.port}.log'
        env = {**os.environ, 'JUPYTER_CONFIG_DIR': str(root / '.jupyter'), 'JUPYTER_RUNTIME_DIR': str(root / '.rt')}
        self.proc = subprocess.Popen([a.format(port=self.port) for a in args], cwd=root, env=env,
                                     stdout=self.log.open('w'), stderr=subprocess.STDOUT)
        wait_for(lambda: self._answers(ready), timeout=90, what=f'{args[0]} to answer')

    def _answers(self, path: str) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f'{self.proc.args} ended: {self.log.read_text()[-2000:]}')
        try:
            with urllib.request.urlopen(f'{self.origin}{path}', timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    def stop(self) -> None:
        stop_process(self.proc)


def notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
    nbformat.write(nb, path)
    return path


def cut_off_page(browser, height: int, keep: int, proxy: bool = False):
    """A new context and page (60 s timeouts), its console watched, cut off but for ``keep`` (see ``cut_off``)."""
    ctx = browser.new_context(viewport={'width': 1200, 'height': height})
    ctx.set_default_timeout(60_000)
    page = ctx.new_page()
    return ctx, page, Console(page), cut_off(ctx, keep=keep, proxy=proxy)


# --- Voilà ----------------------------------------------------------------------------------------------------------

#: A widget button stands in for the next cell (Voilà shows outputs only).
READ_BUTTON = f'''import ipywidgets as w
said = w.Label('last=')
def read(_):
    said.value = f"last={{{LAST}}}"
button = w.Button(description='Read last_query')
button.on_click(read)
w.HBox([button, said])
'''
#: Other packages' JupyterLab extensions that fail to load in Voilà (checked: with or without wave_jupyter's view).
VOILA_DENY = ['@jupyterhub/jupyter-server-proxy', '@jupyterlite/pyodide-kernel-extension',
              '@jupyter-notebook/lab-extension']


@pytest.mark.parametrize('transport', ['comm', 'auto'])
def test_voila_shows_the_app_as_a_dashboard_and_a_widget_reads_the_click(browser, tmp_path, transport):
    notebook(tmp_path / 'demo.ipynb', app_cell(transport), READ_BUTTON, PORT)
    token = secrets.token_hex(8)
    voila = Served(tmp_path, [
        str(Path(sys.executable).with_name('voila')), 'demo.ipynb', '--no-browser', '--port={port}',
        '--Voila.ip=127.0.0.1', f'--Voila.token={token}', '--Voila.port_retries=0',
        *[f'--VoilaConfiguration.extension_denylist={name}' for name in VOILA_DENY]], ready='/api/status')
    ctx, page, console, aborted = cut_off_page(browser, 900, keep=voila.port)
    try:
        page.goto(f'{voila.origin}/?token={token}')
        assert rung_of(page) == 'comm'
        click_through(page.frame_locator('iframe.wave-jupyter-frame'))
        page.get_by_role('button', name='Read last_query').click()
        page.locator('text=last=Ada').wait_for()
        # auto: the kernel has a port, yet the view is on the comm (without cut_off it takes the direct rung).
        said = page.get_by_text(re.compile(r'^port \d+\s*$')).inner_text().strip()
        assert (said == 'port 0') == (transport == 'comm'), said
        assert console.clean(aborted) == [], console.clean(aborted)
    except Exception:
        dump(page, console, 'voila')
        raise
    finally:
        ctx.close()
        voila.stop()


# --- marimo ---------------------------------------------------------------------------------------------------------


def marimo_notebook(path: Path, transport: str) -> Path:
    """A marimo notebook: the app as a cell's last expression (bare), and a reactive cell that follows its queries."""
    serve = textwrap.indent(SERVE, '    ')
    path.write_text(f'''import marimo

app = marimo.App()


@app.cell
def _():
{serve}
    import marimo as mo
    demo = listen('/demo', serve, transport={transport!r})
    return apps, demo, mo


@app.cell
def _(demo):
    demo
    return


@app.cell
def _(demo):
    from wave_jupyter.jupyter.marimo import queries
    get_queries = queries(demo)
    return (get_queries,)


@app.cell
def _(apps, get_queries, mo):
    mo.md(f"queries={{get_queries()}} last={{apps['/demo'].last_query.args.who}}")
    return


@app.cell
def _(apps, mo):
    from wave_jupyter import server_of
    mo.md(f"port {{getattr(server_of(apps['/demo']), 'port', 0)}}")
    return


if __name__ == '__main__':
    app.run()
''')
    return path


@pytest.mark.parametrize('mode,transport', [('run', 'comm'), ('run', 'auto'), ('edit', 'comm'), ('edit', 'auto')])
def test_marimo_shows_the_bare_app_and_a_reactive_cell_follows_its_queries(browser, tmp_path, mode, transport):
    marimo_notebook(tmp_path / 'demo.py', transport)
    # marimo edit runs a notebook when asked (its "run all" button) or, with this setting, when opened.
    (tmp_path / 'pyproject.toml').write_text('[tool.marimo.runtime]\nauto_instantiate = true\n')
    marimo = str(Path(sys.executable).with_name('marimo'))
    extra = ['--no-token', '--skip-update-check'] if mode == 'edit' else []
    served = Served(tmp_path, [marimo, mode, 'demo.py', '--headless', '--port={port}', '--host=127.0.0.1', *extra],
                    ready='/')
    ctx, page, console, aborted = cut_off_page(browser, 1400, keep=served.port)
    try:
        page.goto(served.origin + '/')
        assert rung_of(page) == 'comm'
        page.get_by_text(re.compile(r'queries=\d+ last=None')).wait_for()  # the reactive cell, before any click
        click_through(page.frame_locator('iframe.wave-jupyter-frame'))
        page.get_by_text(re.compile(r'queries=\d+ last=Ada')).wait_for()  # ... ran again after the click
        said = page.get_by_text(re.compile(r'^port \d+\s*$')).inner_text().strip()
        assert (said == 'port 0') == (transport == 'comm'), said
        assert console.clean(aborted) == [], console.clean(aborted)
    except Exception:
        dump(page, console, f'marimo-{mode}')
        raise
    finally:
        ctx.close()
        served.stop()


# --- nbclassic ------------------------------------------------------------------------------------------------------

#: nbclassic's own noise: its loader asks for the old widgets path, and voila's nbextension is enabled but not shipped.
NBCLASSIC_FOREIGN = r'nbextensions/(voila/extension|widgets/notebook/js/extension)'


@pytest.fixture(scope='module')
def nbclassic(tmp_path_factory):
    """nbclassic behind a hub-like base URL, as on a JupyterHub: the proxy rung is under /user/test/."""
    root = tmp_path_factory.mktemp('nbclassic')
    for name, transport in [('comm', 'comm'), ('auto', 'auto')]:
        notebook(root / f'{name}.ipynb', "print('ready')", app_cell(transport), f'print({LAST})', PORT)
    server = JupyterServer(root, app='nbclassic', base_url='/user/test/')
    yield server
    server.stop()


def run_nbclassic_cell(page, index: int, output: str) -> None:
    page.evaluate(f'Jupyter.notebook.get_cell({index}).execute()')
    page.locator(f'.cell >> nth={index} >> .output_area').get_by_text(output).wait_for()


@pytest.mark.parametrize('transport,reach', [('comm', 'comm'), ('auto', 'proxy'), ('auto', 'comm')],
                         ids=['comm', 'auto-proxy', 'auto-comm'])
def test_nbclassic_finds_its_base_url_and_climbs_to_the_proxy(browser, nbclassic, transport, reach):
    # The kernel's port is never reachable; auto-proxy leaves the hub's proxy route open.
    ctx, page, console, aborted = cut_off_page(browser, 1400, keep=nbclassic.port, proxy=reach == 'proxy')
    try:
        page.goto(f'{nbclassic.url}nbclassic/notebooks/{transport}.ipynb?token={nbclassic.token}')
        page.wait_for_function('''() => window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel
            && Jupyter.notebook.kernel.info_reply.status === 'ok' && require.defined('nbextensions/anywidget/extension')
            && require.defined('nbextensions/jupyter-js-widgets/extension')''')
        # nbclassic's widget manager re-renders every widget output once it has loaded the kernel's widgets,
        # blanking those shown before (any widget): a first cell's output, on iopub after that answer, waits for it.
        run_nbclassic_cell(page, 0, 'ready')
        page.evaluate('Jupyter.notebook.get_cell(1).execute()')
        assert rung_of(page) == reach
        click_through(page.frame_locator('.cell >> nth=1 >> iframe.wave-jupyter-frame'))
        run_nbclassic_cell(page, 2, 'Ada')  # the next cell sees the click
        run_nbclassic_cell(page, 3, 'port ')
        if reach == 'proxy':
            src = page.locator('iframe.wave-jupyter-frame').get_attribute('src')
            assert src.startswith(f'/user/test/proxy/127.0.0.1:{nbclassic_port(page)}/'), src
        noise = [line for line in console.clean(aborted) if not re.search(NBCLASSIC_FOREIGN, line)]
        assert noise == [], noise
    except Exception:
        dump(page, console, f'nbclassic-{transport}-{reach}')
        raise
    finally:
        page.evaluate('Jupyter.notebook.kernel.kill()')
        ctx.close()


def nbclassic_port(page) -> int:
    said = page.locator('.cell >> nth=3 >> .output_area').inner_text()
    return int(re.search(r'port (\d+)', said).group(1))
