"""Helpers shared by test modules (tests never import each other)."""

from __future__ import annotations

import functools
import http.client
import http.server
import os
import queue
import re
import subprocess
import threading
import time
from pathlib import Path

from h2o_wave import ui

from wave_jupyter import Q
from wave_jupyter.production import stop_process

#: Console noise that is the frontend's own, not the view's (checked: each appears without wave_jupyter too).
FOREIGN = (
    r'Could not fetch metadata about registered servers',  # jupyter-server-proxy's lab extension, no proxy server
    r'^404: https://vscode-webview\.test/favicon\.ico$',  # the test host's page has none
    r'^failed: https://cdn\.jsdelivr\.net/npm/@fortawesome/',  # Voilà's template links Font Awesome on a CDN (offline)
)


class Console:
    """What a page (and its frames) reported: console errors, uncaught exceptions, and failed responses (by URL: the
    console's own line for a 404 does not say which)."""

    def __init__(self, page) -> None:
        self.lines: list[str] = []
        page.on('console', lambda m: self.lines.append(f'{m.type}: {m.text}')
                if m.type == 'error' and not m.text.startswith('Failed to load resource') else None)
        page.on('pageerror', lambda e: self.lines.append(f'pageerror: {e}'))
        page.on('response', lambda r: self.lines.append(f'{r.status}: {r.url}') if r.status >= 400 else None)
        page.on('requestfailed', lambda r: self.lines.append(f'failed: {r.url} {r.failure}'))

    def clean(self, aborted: list[str] = ()) -> list[str]:
        """What is left once the frontend's own noise and the requests the test itself aborted are taken out."""
        return [line for line in self.lines if not any(re.search(f, line) for f in FOREIGN)
                and not (line.startswith('failed: ') and line.split()[1] in aborted)]


#: In every frame, before its scripts: fetch() of a loopback port but ``keep`` (or of a proxy route, unless allowed)
#: fails as an unreachable port does.
CUT_FETCH = '''([keep, proxy]) => {
  const original = window.fetch;
  window.fetch = function (input, init) {
    const url = new URL(input instanceof Request ? input.url : String(input), location.href);
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    if ((loopback && Number(url.port) !== keep) || (!proxy && /\\/proxy\\/(?:[^/:]+:)?\\d+\\//.test(url.pathname)))
      return Promise.reject(new TypeError('Failed to fetch'));
    return original.apply(this, arguments);
  };
}'''


def cut_off(ctx, keep: int, proxy: bool = False) -> list[str]:
    """Make every loopback port but ``keep`` (the frontend's own server) unreachable from the start, so the kernel's
    port before anyone knows it, and every jupyter-server-proxy route unless ``proxy``: then only the comm (or the
    proxy) is left. Returns the URLs the browser's routes aborted.

    Two layers, because Playwright's routes (1.65, Chromium 156 here) make every fetch that carries an AbortSignal
    fail, the ladder's probes included, even when the route lets it through: fetch() is cut in the page (CUT_FETCH);
    everything else (frames, sockets' handshakes, scripts) by routes, which are left out when the proxy must work."""
    ctx.add_init_script(script=f'({CUT_FETCH})([{keep}, {str(proxy).lower()}])')
    aborted: list[str] = []
    if proxy:
        return aborted

    def loopback(route):
        port = int(re.match(r'^https?://[^/]*:(\d+)/', route.request.url).group(1))
        if port == keep:
            route.continue_()
        else:
            aborted.append(route.request.url)
            route.abort()

    def abort(route):
        aborted.append(route.request.url)
        route.abort()

    ctx.route(re.compile(r'^https?://(127\.0\.0\.1|localhost|\[::1\]):\d+/'), loopback)
    ctx.route(re.compile(r'/proxy/(?:[^/:]+:)?\d+/'), abort)
    return aborted


async def greet(q: Q) -> None:
    if not q.client.initialized:
        q.client.initialized = True
        q.page['form'] = ui.form_card(box='1 1 3 3', items=[
            ui.textbox(name='who', label='Name'), ui.button(name='go', label='Greet', primary=True)])
        q.page['out'] = ui.markdown_card(box='4 1 3 3', title='Out', content='')
    if q.args.go:
        q.page['out'].content = f'Hello, {q.args.who}!'
    await q.page.save()


class WaveProcess:
    """A server process; ``url`` is the first stdout line holding ``http://127.0.0.1:``."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        env = {**os.environ, 'WAVE_JUPYTER_PORT': '0', 'PYTHONUNBUFFERED': '1'}
        self.proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr.append), daemon=True).start()
        self.url = self.next_url()

    @staticmethod
    def _pump(stream, sink) -> None:
        for line in stream:
            sink(line)

    def next_url(self, timeout: float = 20) -> str:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f'no URL printed; stderr:\n{"".join(self.stderr)}') from None
            if 'http://127.0.0.1:' in line:
                return line[line.index('http://'):].split()[0]

    def stop(self) -> None:
        stop_process(self.proc)


class StaticServer:
    """``python -m http.server`` in a thread: what any static host does, and a log of what it served."""

    def __init__(self, root: Path) -> None:
        self.log: list[tuple[str, int]] = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_request(self, code: int | str = '-', size: int | str = '-') -> None:
                server.log.append((self.path, int(code) if str(code).isdigit() else 0))

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Handler, directory=root))
        self.origin = f'http://127.0.0.1:{self.httpd.server_address[1]}'
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


COUNTER = '''from h2o_wave import ui
from wave_jupyter import Q, apps, listen

async def serve(q: Q):
    q.client.n = (q.client.n or 0) + (1 if q.args.go else 0)
    q.page['f'] = ui.form_card(box='1 1 3 3', items=[ui.button(name='go', label=f'n={q.client.n} VERSION')])
    await q.page.save()
'''


def run_cell(page, index: int, timeout: float = 60) -> None:
    """Select cell ``index`` in command mode and run it (Shift+Enter), waiting until it has executed.

    JupyterLab may first ask which kernel to start (the dialog is accepted, as a person would), and a Shift+Enter
    that lands before the kernel is connected is dropped without a trace (the prompt never shows ``[*]``): then the
    cell is run again.
    """
    cell = page.locator('.jp-Notebook .jp-Cell').nth(index)
    prompt = cell.locator('.jp-InputPrompt')
    before = prompt.inner_text()
    state = ('([i, before]) => { const p = document.querySelectorAll(".jp-Notebook .jp-Cell")[i]'
             '.querySelector(".jp-InputPrompt").innerText;'
             ' return p.includes("*") ? "busy" : /\\[\\d+\\]/.test(p) && p !== before ? "done" : "idle"; }')
    deadline = time.monotonic() + timeout
    while True:
        prompt.click()
        page.keyboard.press('Escape')
        page.keyboard.press('Shift+Enter')
        retry = time.monotonic() + 10
        while (status := page.evaluate(state, [index, before])) != 'done':
            accept = page.locator('.jp-Dialog .jp-mod-accept')
            if accept.count() and accept.is_visible():
                accept.click()
                retry = time.monotonic() + 10
            assert time.monotonic() < deadline, f'cell {index} did not finish in {timeout}s'
            if status == 'idle' and time.monotonic() > retry:
                break  # never started: run it again
            page.wait_for_timeout(100)
        if status == 'done':
            return


KERNEL_READY = ('() => { const k = window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel;'
                ' return k?.connectionStatus === "connected" && k.status === "idle"; }')


def wait_for_kernel(page) -> None:
    """Until the notebook's kernel is connected and idle.

    A cell run earlier makes JupyterLab ask which kernel to start; accepting that replaces the kernel it was already
    starting, and a widget created in the first moments of the new kernel can then stay at "Loading widget..."
    (ipywidgets' manager misses its comm): a race of JupyterLab's, not of the app.
    """
    page.wait_for_function(KERNEL_READY, timeout=60_000)


def output_text(page, index: int) -> str:
    return page.locator('.jp-Notebook .jp-Cell').nth(index).locator('.jp-OutputArea').inner_text()


def request(server, method: str, path: str, secret: bool = False, headers: dict | None = None,
            body: bytes | None = None):
    """An HTTP request; with ``secret`` the path goes under the server's secret root."""
    conn = http.client.HTTPConnection('127.0.0.1', server.port, timeout=10)
    if secret:
        path = server.root + path.lstrip('/')
    conn.request(method, path, body=body, headers=dict(headers or {}))
    res = conn.getresponse()
    return res.status, dict(res.getheaders()), res.read()


def multipart(name: str, filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = 'wavejupyterboundary'
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f'Content-Type: application/octet-stream\r\n\r\n').encode() + content + f'\r\n--{boundary}--\r\n'.encode()
    return body, f'multipart/form-data; boundary={boundary}'


def visible(page) -> str:
    """The app's visible text, whitespace normalised."""
    page.wait_for_function('() => !document.querySelector(".wave-busy, [data-test=busy]")')
    return re.sub(r'\s+', ' ', page.locator('main, body').first.inner_text()).strip()


def same_clicks(pages: dict, steps: list) -> list[dict[str, str]]:
    """Do each step on every page and wait for its expected text; the visible text of each page after each step."""
    seen = []
    for action, expect in steps:
        for page in pages.values():
            action(page)
            page.locator(f'text={expect}').first.wait_for(timeout=20_000)
        seen.append({name: visible(page) for name, page in pages.items()})
    return seen


PYTHON3 = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}


def write_notebook(path: Path, cells: list[str], kernelspec: dict | None = None) -> Path:
    """A notebook of code cells at ``path``, for the kernel ``kernelspec`` (Python 3 unless told)."""
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata['kernelspec'] = kernelspec or PYTHON3
    nbformat.write(nb, path)
    return path
