#!/usr/bin/env python
"""Screenshots of the seven teaching notebooks, each showing its live app in its output cell, for the README.

Why a script and not hand-made pictures: every PNG is then evidence that the notebook really runs in a real
JupyterLab with the installed ``wave-jupyter`` extension (the app is live in an iframe, and a real click inside it
worked), and the pictures can be made again, the same way, after any change to the notebooks, the server or the
extension.

How: the notebooks are copied into a temporary folder (nothing is written into the repository), JupyterLab is started
there (``tests/jupyter_process.py``), and each notebook is opened in its own workspace in headless Chromium (Debian's
``/usr/bin/chromium``; no browser is downloaded). The cells are run from the *Run* menu as a person would, accepting
the kernel dialog if JupyterLab asks. Every wait is on a condition (all prompts numbered, a text inside the app's
iframe, a plot that stopped moving), never a fixed sleep. Where it tells more, one real click is made inside the app.
Then a region around the app's cell is saved as a PNG (about 1350 px wide) and the notebook's kernel is shut down.

Usage::

    python scripts/notebook_screenshots.py [--out docs/screenshots] [--only 01 05]
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import re
import shutil
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from playwright.sync_api import FrameLocator, Locator, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / 'notebooks'
CHROMIUM = '/usr/bin/chromium'
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
                 '--disable-sync']
VIEWPORT = {'width': 1400, 'height': 900}
MAX_HEIGHT = 1150  # the window may grow to this height for a tall region
MAX_BYTES = 250_000
CELL_TIMEOUT = 90  # seconds for a whole run of cells (the first run also starts the kernel)


def load_jupyter_server_helper():
    """``tests/jupyter_process.py``, loaded by path (tests/ is not a package)."""
    spec = importlib.util.spec_from_file_location('wave_jupyter_test_server', ROOT / 'tests' / 'jupyter_process.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.JupyterServer


# --- driving one notebook in JupyterLab --------------------------------------------------------------------------

class Notebook:
    """One notebook open in JupyterLab: find cells by their source, run them from the Run menu, reach the apps."""

    def __init__(self, page: Page, path: Path) -> None:
        self.page = page
        self.sources = [''.join(c['source']) for c in json.loads(path.read_text())['cells']]

    def index(self, snippet: str) -> int:
        """The index of the first cell whose source contains ``snippet``."""
        for i, source in enumerate(self.sources):
            if snippet in source:
                return i
        raise LookupError(f'no cell contains {snippet!r}')

    def cell(self, snippet: str) -> Locator:
        return self.page.locator('.jp-Notebook .jp-Cell').nth(self.index(snippet))

    def app(self, snippet: str, nth: int = 0) -> FrameLocator:
        """The ``nth`` live app view (iframe) in the output of the cell holding ``snippet``, scrolled into view.

        Scrolled as a person would: after *Run All* the notebook sits at its last cell, and an app far above it may
        not load until it is on screen (JupyterLab skips rendering cells out of view).
        """
        frame = self.cell(snippet).locator('.wave-jupyter-view iframe').nth(nth)
        frame.scroll_into_view_if_needed()
        return frame.content_frame

    def wait_for_kernel(self) -> None:
        """Until the kernel is started and idle (accepting JupyterLab's kernel dialog if it asks which to start)."""
        idle = self.page.locator('.jp-StatusBar-Widget', has_text='| Idle')
        deadline = time.monotonic() + CELL_TIMEOUT
        while not idle.count():
            self._accept_dialog()
            if time.monotonic() > deadline:
                raise TimeoutError(f'the kernel was not idle after {CELL_TIMEOUT}s')
            self.page.wait_for_timeout(100)

    def run_all(self) -> None:
        self._menu('Run', 'Run All Cells')
        self._wait_until_run(len(self.sources))

    def run_above(self, snippet: str) -> None:
        """Run every cell above the one holding ``snippet`` (which, say, stops the app we want to picture)."""
        self.select(self.index(snippet))
        self._menu('Run', 'Run All Above Selected Cell')
        self._wait_until_run(self.index(snippet))

    def select(self, index: int) -> None:
        cell = self.page.locator('.jp-Notebook .jp-Cell').nth(index)
        cell.scroll_into_view_if_needed()
        cell.locator('.jp-InputPrompt').click()
        self.page.keyboard.press('Escape')  # command mode

    def _menu(self, menu: str, item: str) -> None:
        self.page.locator('.lm-MenuBar-itemLabel', has_text=re.compile(f'^{menu}$')).click()
        self.page.locator('.lm-Menu-itemLabel', has_text=re.compile(f'^{re.escape(item)}$')).click()

    def _wait_until_run(self, count: int) -> None:
        """Until every code cell among the first ``count`` has a numbered prompt, accepting the kernel dialog (read as
        ``textContent``: JupyterLab does not render the cells out of view, whose ``innerText`` is empty)."""
        done = '''(n) => [...document.querySelectorAll('.jp-Notebook .jp-Cell')].slice(0, n)
                     .filter(c => c.classList.contains('jp-CodeCell'))
                     .every(c => /^\\[\\d+\\]/.test(c.querySelector('.jp-InputPrompt').textContent.trim()))'''
        deadline = time.monotonic() + CELL_TIMEOUT
        while not self.page.evaluate(done, count):
            self._accept_dialog()
            self._fail_on_error()
            if time.monotonic() > deadline:
                raise TimeoutError(f'the cells did not finish running in {CELL_TIMEOUT}s')
            self.page.wait_for_timeout(100)
        self._fail_on_error()

    def _accept_dialog(self) -> None:
        accept = self.page.locator('.jp-Dialog .jp-mod-accept')
        if accept.count() and accept.is_visible():
            accept.click()

    def _fail_on_error(self) -> None:
        errors = self.page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]',
                                   has_text=re.compile(r'Traceback|\w+Error\b'))
        if errors.count():
            raise RuntimeError(f'a cell failed:\n{errors.first.inner_text()[-1500:]}')


def until(condition: Callable[[], object], what: str, timeout: float = 10) -> None:
    """Poll ``condition`` until it is truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f'timed out after {timeout}s waiting for {what}')
        time.sleep(0.05)


def wait_until_still(target: Locator, interval_ms: int = 500, timeout: float = 20) -> None:
    """Until two pictures of ``target`` taken ``interval_ms`` apart are the same (e.g. a streaming plot is done)."""
    deadline = time.monotonic() + timeout
    before = target.screenshot()
    while time.monotonic() < deadline:
        target.page.wait_for_timeout(interval_ms)
        now = target.screenshot()
        if now == before:
            return
        before = now
    raise TimeoutError('the view kept changing')


# --- what each picture shows ---------------------------------------------------------------------------------------

Region = tuple[Locator, Locator]  # the picture spans from the top of the first to the bottom of the second


def hello(nb: Notebook) -> Region:
    """01: click Greet inside the live app; the greeting card answers (the cells above the one that changes every
    view's page from the notebook)."""
    nb.run_above('await wait_for_views(hello)')
    app = nb.app("listen('/hello'")
    app.get_by_text('Nobody greeted yet.').wait_for()
    app.locator('[data-test=go]').click()
    app.get_by_text('Hello, Ada!').wait_for()
    return nb.cell('async def serve'), nb.cell("listen('/hello'")


def forms(nb: Notebook) -> Region:
    """02: fill in the form inside the app (note, flavor, Order); the order card shows this tab's state."""
    nb.run_all()
    app = nb.app("listen('/forms'")
    app.locator('[data-test=submit]').wait_for()
    app.locator('[data-test=note] input, input[data-test=note]').first.fill('extra sprinkles')
    app.locator('[data-test=flavor]').click()
    app.get_by_role('option', name='Chocolate').click()
    app.locator('[data-test=submit]').click()
    app.get_by_text('extra sprinkles').wait_for()
    app.get_by_text('chocolate', exact=True).wait_for()
    cell = nb.cell("listen('/forms'")
    return cell, cell


def protocol(nb: Notebook) -> Region:
    """03: the live counter (after a real click) above the table of every frame that crossed the wire."""
    nb.run_all()
    app = nb.app('counter = listen')
    app.locator('[data-test=inc]').click()
    app.get_by_text('Count=1').wait_for()
    table = nb.cell('HTML(table(')
    table.locator('.jp-OutputArea table').wait_for()
    return nb.cell('counter = listen').locator('.jp-Cell-outputArea'), table


def realtime(nb: Notebook) -> Region:
    """04: the streaming sine plot, once its handler's loop is done (run up to the cell that stops the app)."""
    nb.run_above('stream.stop()')
    cell = nb.cell("listen('/stream'")
    frame = cell.locator('.wave-jupyter-view iframe')
    frame.content_frame.locator('canvas').first.wait_for()
    wait_until_still(frame)
    return cell, cell


def multi_user(nb: Notebook) -> Region:
    """05: what the three modes did for virtual tabs, then two live views of the broadcast app side by side:
    a click in the left one updates both."""
    nb.run_all()
    snippet = "view(apps['/broadcast']"
    left, right = nb.app(snippet, 0), nb.app(snippet, 1)
    for view in (left, right):
        view.get_by_text('broadcast: 1').wait_for()
    left.locator('[data-test=inc]').click()
    for view in (left, right):
        view.get_by_text('broadcast: 2').wait_for()
    return nb.cell('results = {}').locator('.jp-Cell-outputArea'), nb.cell(snippet)


def routing(nb: Notebook) -> Region:
    """06: click the Eggs link inside the app: the hash route #menu/eggs reaches the @on handler."""
    nb.run_all()
    app = nb.app('routes = listen')
    app.get_by_text('Pick something.').wait_for()
    app.get_by_text('Eggs', exact=True).click()
    app.get_by_text('You picked eggs.').wait_for()
    cell = nb.cell('routes = listen')
    return cell, cell


def production(nb: Notebook) -> Region:
    """07: the to-do app built in the notebook (exported and run on waved further down); an item added in the app."""
    nb.run_above('todo.stop()')
    app = nb.app("todo = listen('/todo'")
    app.locator('[data-test=add]').wait_for()
    app.locator('[data-test=item] input, input[data-test=item]').first.fill('Try it in the notebook')
    app.locator('[data-test=add]').click()
    app.get_by_text('Try it in the notebook', exact=True).wait_for()  # a markdown list item
    cell = nb.cell("todo = listen('/todo'")
    return cell, cell


@dataclass
class Shot:
    notebook: str
    take: Callable[[Notebook], Region]


SHOTS = [
    Shot('01_hello_wave.ipynb', hello),
    Shot('02_forms_and_state.ipynb', forms),
    Shot('03_the_protocol_visible.ipynb', protocol),
    Shot('04_realtime.ipynb', realtime),
    Shot('05_multi_user_modes.ipynb', multi_user),
    Shot('06_routing_and_files.ipynb', routing),
    Shot('07_notebook_to_production.ipynb', production),
]


# --- pictures -------------------------------------------------------------------------------------------------------

def hide_left_sidebar(page: Page) -> None:
    """More width for the notebook: collapse the file browser if JupyterLab opened with it."""
    if page.locator('#jp-left-stack').is_visible():
        page.locator('#jp-main-dock-panel').click(position={'x': 5, 'y': 5})
        page.keyboard.press('Control+b')
        page.locator('#jp-left-stack').wait_for(state='hidden')


def clip_of(page: Page, region: Region) -> dict:
    """Scroll ``region`` into view and return its clip rectangle, within the notebook's visible area.

    A region taller than the notebook's area first makes the window taller (up to MAX_HEIGHT); if it still does not
    fit, its bottom (the app) is kept and its top cut.
    """
    top, bottom = region
    panel = page.locator('.jp-NotebookPanel .jp-WindowedPanel-outer')
    needed = bottom.bounding_box()['y'] + bottom.bounding_box()['height'] - top.bounding_box()['y'] + 16
    if needed > panel.bounding_box()['height']:
        before = panel.bounding_box()['height']
        grow = int(min(needed - before, MAX_HEIGHT - VIEWPORT['height'])) + 1
        page.set_viewport_size({'width': VIEWPORT['width'], 'height': VIEWPORT['height'] + grow})
        until(lambda: panel.bounding_box()['height'] >= before + grow - 1, 'the notebook to fill the taller window')
    top.evaluate("el => el.scrollIntoView({block: 'start'})")
    box = panel.bounding_box()
    if bottom.bounding_box()['y'] + bottom.bounding_box()['height'] > box['y'] + box['height']:
        bottom.evaluate("el => el.scrollIntoView({block: 'end'})")
    after_paint(page)
    a, b = top.bounding_box(), bottom.bounding_box()
    y0 = max(a['y'] - 8, box['y'])
    y1 = min(b['y'] + b['height'] + 8, box['y'] + box['height'])
    return {'x': box['x'], 'y': y0, 'width': box['width'], 'height': y1 - y0}


def after_paint(page: Page) -> None:
    """Until the browser has painted twice (so a scroll or a resize is on screen)."""
    page.evaluate('() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))')


def save_png(data: bytes, path: Path) -> None:
    """Write the screenshot; if it is over the size budget, as an adaptive palette PNG (UI pictures stay crisp)."""
    if len(data) > MAX_BYTES:
        image = Image.open(io.BytesIO(data)).convert('RGB').quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        buffer = io.BytesIO()
        image.save(buffer, format='PNG', optimize=True)
        data = buffer.getvalue()
    path.write_bytes(data)


def shut_down_kernels(server) -> None:
    """Each notebook gets a fresh kernel (and app server): end the sessions of the previous ones."""
    api = f'{server.url}api/sessions?token={server.token}'
    with urllib.request.urlopen(api, timeout=10) as r:
        sessions = json.load(r)
    for s in sessions:
        request = urllib.request.Request(f'{server.url}api/sessions/{s["id"]}?token={server.token}', method='DELETE')
        urllib.request.urlopen(request, timeout=10).close()


def quiet_settings(root: Path) -> None:
    """No "notified about Jupyter news?" toast over the pictures: JupyterLab's user settings in the temporary root."""
    folder = root / '.jupyter' / 'lab' / 'user-settings' / '@jupyterlab' / 'apputils-extension'
    folder.mkdir(parents=True, exist_ok=True)
    (folder / 'notification.jupyterlab-settings').write_text(json.dumps({'fetchNews': 'false',
                                                                          'checkForUpdates': False}))


def take(browser, server, root: Path, shot: Shot, out: Path) -> Path:
    """Open ``shot``'s notebook in a fresh browser context, let it act, save ``out/NN.png``; end its kernel."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(30_000)
    number = shot.notebook[:2]
    target = out / f'{number}.png'
    try:  # a workspace of its own, so JupyterLab does not reopen the previous notebooks next to it
        page.goto(f'{server.url}lab/workspaces/shot{number}/tree/{shot.notebook}?token={server.token}')
        page.locator('.jp-Notebook .jp-Cell').first.wait_for()
        hide_left_sidebar(page)
        notebook = Notebook(page, root / shot.notebook)
        notebook.wait_for_kernel()
        region = shot.take(notebook)
        save_png(page.screenshot(clip=clip_of(page, region)), target)
        return target
    except Exception:
        failed = root / f'{number}-failed.png'
        page.screenshot(path=failed)
        print(f'  failed; the page as it was: {failed}', file=sys.stderr)
        raise
    finally:
        context.close()
        try:
            shut_down_kernels(server)
        except OSError as e:  # not worth hiding the notebook's own error for
            print(f'  could not shut its kernel down: {e}', file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', type=Path, default=ROOT / 'docs' / 'screenshots', help='folder for NN.png')
    parser.add_argument('--only', nargs='*', help='notebook numbers to picture, e.g. 01 05 (default: all)')
    args = parser.parse_args()
    shots = [s for s in SHOTS if not args.only or s.notebook[:2] in args.only]
    args.out.mkdir(parents=True, exist_ok=True)
    JupyterServer = load_jupyter_server_helper()
    root = Path(tempfile.mkdtemp(prefix='wave-notebook-shots-'))
    for shot in shots:
        shutil.copy(NOTEBOOKS / shot.notebook, root / shot.notebook)
    quiet_settings(root)
    server = JupyterServer(root, app='lab')
    failed = False
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for shot in shots:
                started = time.monotonic()
                print(f'{shot.notebook} ...', flush=True)
                try:
                    path = take(browser, server, root, shot, args.out)
                except Exception as e:  # noqa: BLE001 - go on with the others, fail at the end
                    failed = True
                    print(f'  {type(e).__name__}: {e}', file=sys.stderr)
                    continue
                print(f'  {path} ({path.stat().st_size // 1000} KB, {time.monotonic() - started:.0f} s)')
            browser.close()
    finally:
        server.stop()
    if failed:
        print(f'some notebooks failed; pages and the JupyterLab log are in {root}', file=sys.stderr)
        sys.exit(1)
    shutil.rmtree(root, ignore_errors=True)


if __name__ == '__main__':
    main()
