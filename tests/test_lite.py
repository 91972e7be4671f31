"""Wave apps with no server: sites built by ``python -m wave_jupyter lite build`` from examples/ apps, teaching
notebooks and a probe app, served by a plain static file server, opened in headless Chromium with every request that
is not to that server aborted (WebSockets included): Python runs in the page's worker (Pyodide), offline."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import wait_for
from support import StaticServer

ROOT = Path(__file__).resolve().parents[1]
#: Building a site and booting Python cold take a while on a 2-core machine.
pytestmark = pytest.mark.timeout(600)
SITES = {
    'todo': ROOT / 'examples' / 'todo_app.py',
    'greet': ROOT / 'examples' / 'greet.py',
    'stream': ROOT / 'notebooks' / '04_realtime.ipynb',
    'routes': ROOT / 'notebooks' / '06_routing_and_files.ipynb',
    'probe': ROOT / 'tests' / 'apps' / 'lite_probe.py',
}
#: Cold boots compile Pyodide and import everything (seconds on this machine); a click waits for it.
PYTHON_READY = 90_000


@pytest.fixture(scope='module')
def sites(tmp_path_factory) -> dict[str, str]:
    """Every site built with the CLI, as a user would; what each build printed."""
    root = tmp_path_factory.mktemp('lite')
    reports = {}
    for name, app in SITES.items():
        done = subprocess.run([sys.executable, '-m', 'wave_jupyter', 'lite', 'build', str(app), '-o', str(root / name)],
                              capture_output=True, text=True, timeout=300, cwd=root)
        assert done.returncode == 0, done.stderr
        reports[name] = done.stdout
    reports['root'] = str(root)
    return reports


@pytest.fixture(scope='module')
def static(sites):
    server = StaticServer(Path(sites['root']))
    yield server
    server.close()


@pytest.fixture
def offline(browser, static):
    """A browser context that reaches nothing but the static server, and what it asked for (service worker's too)."""
    ctx = browser.new_context(accept_downloads=True)
    ctx.set_default_timeout(30_000)
    asked: list[str] = []
    aborted: list[str] = []

    def route(r):
        url = r.request.url
        if url.startswith(static.origin + '/'):
            r.continue_()
        else:
            aborted.append(url)
            r.abort()

    ctx.route('**/*', route)
    ctx.route_web_socket(re.compile('.*'), lambda ws: aborted.append(ws.url) or ws.close())
    ctx.on('request', lambda request: asked.append(request.url))
    ctx.asked, ctx.aborted = asked, aborted
    yield ctx
    ctx.close()
    assert not aborted, f'requests left the site: {aborted}'
    assert asked and all(u.startswith(static.origin + '/') or u.startswith(('blob:', 'data:')) for u in asked), asked


def open_site(ctx, static, name: str, hash: str = ''):  # noqa: A002 - the UI's word
    page = ctx.new_page()
    errors: list[str] = []
    page.on('pageerror', lambda e: errors.append(str(e)))
    page.errors = errors
    page.goto(f'{static.origin}/{name}/{hash}')
    return page


def python_ready(page) -> dict:
    page.wait_for_function("document.body.dataset.lite === 'live'", timeout=PYTHON_READY)
    return page.evaluate('window.waveLite')


def test_the_build_reports_what_the_site_holds_and_it_is_small(sites):
    report = sites['todo']
    assert re.search(r'/todo as a static site, \d+\.\d MB', report)
    for dist in ('h2o-wave', 'wave_jupyter', 'httpx', 'starlette'):
        assert dist in report
    assert 'tornado' not in report and 'ipykernel' not in report  # the notebook side stays out
    site = Path(sites['root']) / 'todo'
    total = sum(p.stat().st_size for p in site.rglob('*') if p.is_file())
    assert total <= 25e6, total
    manifest = json.loads((site / 'lite.json').read_text())
    assert manifest['pyodide']['index'].startswith('files/pyodide-')  # on the site: no CDN
    assert '"list"' in manifest['prerender']  # the first page of a new visitor, from the build


def test_an_app_file_runs_in_the_browser_typed_value_click_upload_and_reload(offline, static, tmp_path):
    page = open_site(offline, static, 'todo')
    page.locator('[data-test=title]').wait_for()  # the first page, from the build, while Python loads
    assert page.evaluate('document.body.dataset.lite') != 'live' and page.locator('#wave-lite-shield').is_visible()
    timings = python_ready(page)
    assert timings['worker']['restored'] is False  # a first visit boots Python (and keeps a snapshot)
    page.fill('[data-test=title]', 'Write the tests')
    page.click('[data-test=add]')  # live means the app's own page is drawn: what is typed now stays
    page.locator('text=Write the tests (anon)').wait_for()
    note = tmp_path / 'note.txt'
    note.write_text('buy milk')
    page.set_input_files('input[type=file]', str(note))
    page.click('button:has-text("Attach a note")')
    page.locator('text=attachments: buy milk').wait_for()  # the handler read the upload in the worker's files
    page.reload()  # a new page: a new Python, from the snapshot; nothing of the visit's state persists
    page.locator('[data-test=title]').wait_for()
    timings = python_ready(page)
    assert timings['worker']['restored'] is True
    assert 'Write the tests' not in page.inner_text('body')
    page.fill('[data-test=title]', 'Again')
    page.click('[data-test=add]')
    page.locator('text=Again (anon)').wait_for()
    assert not page.errors


def test_a_second_visit_starts_from_the_browsers_caches(offline, static):
    start = len(static.log)
    first = open_site(offline, static, 'greet')
    python_ready(first)
    manifest = json.loads(first.evaluate("document.getElementById('wave-lite-manifest').textContent"))
    kept = f"caches.open('wave-jupyter-lite').then(c => c.match('{static.origin}/greet/{manifest['python']}'))"
    wait_for(lambda: first.evaluate(f'{kept}.then(Boolean)'), timeout=30, what='the service worker to keep the files')
    every = ('''async paths => { const cache = await caches.open('wave-jupyter-lite');
        for (const p of paths) if (!(await cache.match(location.origin + p))) return false;
        return true; }''')

    def served():
        return sorted({p for p, _ in static.log[start:] if p.startswith('/greet/files/')})

    wait_for(lambda: first.evaluate(every, served()), timeout=30, what='every file served (fonts come late) to be kept')
    first.close()
    before = len(static.log)
    again = open_site(offline, static, 'greet')
    again.locator('[data-test=who]').wait_for()
    timings = python_ready(again)
    assert timings['worker']['restored'] is True
    seen = {path for path, _ in static.log[start:before]}
    files = [path for path, _ in static.log[before:] if path.startswith('/greet/files/')]
    assert not [p for p in files if p in seen], files  # Pyodide, packages, UI: all cached
    assert not [p for p in files if not p.endswith('.woff2')], files  # only a font the first visit never drew
    again.fill('[data-test=who]', 'Ada')
    again.click('[data-test=go]')
    again.locator('text=Hello, Ada!').wait_for()


def test_a_notebooks_realtime_loop_updates_the_page(offline, static):
    page = open_site(offline, static, 'stream')
    page.locator('[data-test=plot]').wait_for()
    python_ready(page)
    frames = page.evaluate('window.waveLite.frames')
    wait_for(lambda: page.evaluate('window.waveLite.frames') > frames + 50, timeout=30, what='the loop\'s saves')


def test_a_notebooks_hash_routes_and_uploads(offline, static, tmp_path):
    page = open_site(offline, static, 'routes', '#menu/spam')  # opened on a hash route: the app's own page
    python_ready(page)
    page.locator('text=You picked spam.').wait_for()
    page.click('text=Eggs')
    page.locator('text=You picked eggs.').wait_for()
    up = tmp_path / 'hello.txt'
    up.write_text('hello')
    page.set_input_files('input[type=file]', str(up))
    page.click('button:has-text("Upload")')
    page.locator('text=/Got hello.txt: .hello./').wait_for()  # markdown curls the quotes


def test_the_error_card_what_cannot_work_in_a_browser_and_files_the_app_publishes(offline, static):
    page = open_site(offline, static, 'probe')
    python_ready(page)
    page.locator('text=platform emscripten').wait_for()  # Python in the browser
    page.fill('[data-test=who]', 'Grace')
    page.click('[data-test=go]')
    page.locator('text=Hello, Grace!').wait_for()
    page.click('[data-test=tick]')  # several saves from one query arrive in order
    page.locator('text=tick 5').wait_for()
    page.click('[data-test=threaded]')  # q.run needs a thread: a clear error, not a hang
    page.locator('text=Python in a browser has no threads').wait_for()
    page.reload()
    python_ready(page)
    page.click('[data-test=boom]')
    page.locator('text=the probe raised on purpose').wait_for()  # Wave's error card, with the traceback
    page.reload()
    python_ready(page)
    page.click('[data-test=publish]')  # q.site.upload of a file the app wrote in the worker's file system
    with page.expect_download() as download:
        page.click('text=get it')
    assert Path(download.value.path()).read_text() == 'made in emscripten'


def test_a_cdn_site_carries_no_pyodide_and_names_the_cdn(tmp_path):
    done = subprocess.run([sys.executable, '-m', 'wave_jupyter', 'lite', 'build', str(SITES['greet']), '-o',
                           str(tmp_path / 'site'), '--pyodide-cdn'], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / 'site' / 'lite.json').read_text())
    assert manifest['pyodide']['index'] == 'https://cdn.jsdelivr.net/pyodide/v314.0.6/full/'
    assert not list((tmp_path / 'site' / 'files').glob('pyodide-*'))


def test_a_compiled_package_is_refused_with_a_clear_error(tmp_path):
    app = tmp_path / 'needs_c.py'
    app.write_text('import psutil\nfrom h2o_wave import Q, app, main\n\n@app("/x")\nasync def serve(q: Q):\n    pass\n')
    done = subprocess.run([sys.executable, '-m', 'wave_jupyter', 'lite', 'build', str(app), '-o',
                           str(tmp_path / 'site')], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert 'psutil' in done.stderr and 'is compiled' in done.stderr and 'pure Python' in done.stderr
