"""From notebook to production, checked on the real Wave server: a notebook exported to an app file runs on
``waved`` + uvicorn (as ``wave run`` starts it) and on ``python -m wave_jupyter run`` with the same visible text after
the same clicks in Chromium; state saved from a notebook's kernel is what waved's app starts with; Wave's
background-task pattern (progress and cancel from a worker thread) reaches the browser on both."""

from __future__ import annotations

import ast
import base64
import http.client
import json
import re
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from hostile import squat
from kernel import Kernel
from support import WaveProcess, same_clicks, write_notebook
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from wave_jupyter.export import ExportError, export_notebook
from wave_jupyter.production import Waved

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_02 = ROOT / 'notebooks' / '02_forms_and_state.ipynb'

# A notebook as people write them: imports, a constant, a helper, an @on handler, on_startup, magics, cells that
# drive or inspect the app, and a re-defined handler (the last definition is the one that runs).
CELLS = [
    '%load_ext wave_jupyter',
    'import math\nfrom h2o_wave import ui, on, run_on\nfrom wave_jupyter import Q, apps, listen\n'
    'from wave_jupyter.virtual import VirtualTab',
    "GREETING = 'Hello'\nSTEPS = [1, 2, 3]\nscratch = {'unused': True}",
    'def greet(who: str) -> str:\n    return f"{GREETING}, {who}! sqrt(2)={math.sqrt(2):.2f}"',
    'async def startup():\n    print("starting")',
    '@on()\nasync def shout(q: Q):\n    q.client.loud = not q.client.loud',
    'async def serve(q: Q):\n    q.page["x"] = ui.markdown_card(box="1 1 2 2", title="old", content="")\n'
    '    await q.page.save()',
    'async def serve(q: Q):\n'
    '    q.app.hits = (q.app.hits or 0) + 1\n'
    '    if not await run_on(q):\n'
    '        q.client.who = q.args.who or q.client.who or "nobody"\n'
    '    text = greet(q.client.who).upper() if q.client.loud else greet(q.client.who)\n'
    '    q.page["f"] = ui.form_card(box="1 1 3 4", items=[\n'
    '        ui.textbox(name="who", label="Who", value=q.client.who),\n'
    '        ui.button(name="go", label="Greet"), ui.button(name="shout", label="Shout"),\n'
    '        ui.text(f"{text} steps={sum(STEPS)}")])\n'
    '    await q.page.save()',
    "demo = listen('/greet', serve, on_startup=startup)",
    'tab = VirtualTab(apps["/greet"])\nawait tab.settle()\nawait tab.click("go", who="Ada")',
    'apps["/greet"].state',
    '%wave status',
]


def export_cli(notebook: Path, out: Path, *args: str) -> str:
    import subprocess
    done = subprocess.run([sys.executable, '-m', 'wave_jupyter', 'export', str(notebook), '-o', str(out), *args],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return out.read_text()


def test_export_skips_what_drives_the_notebook_and_keeps_what_the_app_needs(tmp_path):
    text = export_notebook(write_notebook(tmp_path / 'greet.ipynb', CELLS), file='greet_app.py')
    assert "@app('/greet', on_startup=startup)" in text
    for needed in ('import math', 'from h2o_wave import on, run_on', "GREETING = 'Hello'", 'def greet(',
                   'async def startup', 'async def shout', 'STEPS = [1, 2, 3]'):
        assert needed in text, needed
    for left_out in ('VirtualTab', 'apps', 'listen', '%wave', 'scratch', 'title="old"', 'wave_jupyter import'):
        assert left_out not in text.split('"""', 2)[2], left_out
    compile(text, 'greet_app.py', 'exec')


@pytest.mark.parametrize('cells,message', [
    (['from wave_jupyter import listen, VirtualTab\ntab = VirtualTab(None)\n'
      'async def serve(q):\n    await tab.click("x")\n', "listen('/a', serve)"],
     'cell 1: serve uses `tab`, bound in cell 1 to a live object'),
    (['async def serve(q):\n    q.page["x"] = helper()\n', "listen('/a', serve)"], 'cell 1: serve uses `helper`'),
    (['def make(n):\n    async def serve(q):\n        pass\n    return serve\n', "listen('/a', make(1))"],
     'cell 2 starts an app with listen'),
    (['from wave_jupyter import apps\nasync def serve(q):\n    print(apps)\n', "listen('/a', serve)"],
     'exists only in the notebook'),
    (['x = 1'], 'no cell starts a Wave app'),
    (['async def serve(q):\n    pass', "%wave listen '/demo serve"], 'cell 2: cannot read the %wave line'),
])
def test_export_says_what_cannot_go_to_a_file_naming_the_cell(tmp_path, cells, message):
    with pytest.raises(ExportError, match=re.escape(message)):
        export_notebook(write_notebook(tmp_path / 'bad.ipynb', cells))


def test_a_route_or_notebook_name_cannot_break_out_of_the_exported_docstring(tmp_path):
    escape = '"""\nimport os; os.system("touch PWNED")\n"""'
    route = f'/x{escape}'
    name = tmp_path / f'n\\b{escape}.ipynb'.replace('/', '_')
    text = export_notebook(write_notebook(name, ['async def serve(q):\n    pass', f'listen({route!r}, serve)']))
    tree = ast.parse(text)
    assert route in ast.get_docstring(tree) and name.name in ast.get_docstring(tree)
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, 'attr', '') == 'system']
    exec(compile(text.replace('from h2o_wave import Q, app, main, ui', 'from h2o_wave import Q, main, ui\n'
                              'app = lambda *a, **k: (lambda f: f)'), 'app.py', 'exec'), {}, {})
    assert not (tmp_path / 'PWNED').exists() and not Path('PWNED').exists()


def test_waved_serves_the_app_only_to_who_knows_its_url_and_leaves_nothing_behind(tmp_path):
    """waved has no browser authentication: another local user at its port must find nothing to open, no default
    key pair to register or write pages with, no twin port to stand at, no secret on a command line."""
    app_file = tmp_path / 'greet_app.py'
    export_cli(write_notebook(tmp_path / 'greet.ipynb', CELLS), app_file)
    with Waved(app_file) as waved:
        assert waved.url.startswith(f'http://127.0.0.1:{waved.port}/') and waved.base != '/'
        origin = {'Origin': waved.origin}
        for path in ['/greet', '/', '/wave-static/', '/_f/']:
            assert http_status(waved.port, path) == 404, path
        with pytest.raises(InvalidStatus):  # the socket of the app, without the secret base
            connect(f'ws://127.0.0.1:{waved.port}/_s/', additional_headers=origin, open_timeout=5)
        register = b'{"register_app":{"mode":"unicast","route":"/evil","address":"http://127.0.0.1:1"}}'
        for path in ['/', waved.base]:  # the hub API with waved's well-known default key pair
            auth = {'Authorization': 'Basic ' + base64.b64encode(b'access_key_id:access_key_secret').decode()}
            assert http_status(waved.port, path, 'POST', auth, register) in (401, 403, 404), path
        with pytest.raises(OSError):
            squat('::1', waved.port).close()
        for pid in waved.pids():  # what any user reads in /proc/<pid>/cmdline
            assert waved.base.strip('/') not in Path(f'/proc/{pid}/cmdline').read_text()
        with connect(waved.ws_url, additional_headers=origin, open_timeout=5) as ws:  # who knows the URL gets in
            assert json.loads(ws.recv(timeout=5))
        data = Path(waved.data)
        assert data.is_dir()
    assert not data.exists()


def http_status(port: int, path: str, method: str = 'GET', headers: dict | None = None, body: bytes | None = None):
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    status = conn.getresponse().status
    conn.close()
    return status


def test_exported_notebook_runs_the_same_on_waved_and_here(browser, tmp_path):
    """Export (the CLI) -> waved + uvicorn, and -> python -m wave_jupyter run: same clicks, same text at every step."""
    app_file = tmp_path / 'greet_app.py'
    export_cli(write_notebook(tmp_path / 'greet.ipynb', CELLS), app_file)
    forms_file = tmp_path / 'forms_app.py'
    export_cli(NOTEBOOK_02, forms_file)
    with Waved(app_file) as waved, Waved(forms_file) as waved_forms:
        ours = WaveProcess([sys.executable, '-m', 'wave_jupyter', 'run', app_file.name], tmp_path)
        ours_forms = WaveProcess([sys.executable, '-m', 'wave_jupyter', 'run', forms_file.name], tmp_path)
        ctx = browser.new_context()
        try:
            pages = {'waved': ctx.new_page(), 'wave_jupyter': ctx.new_page()}
            pages['waved'].goto(waved.url)
            pages['wave_jupyter'].goto(ours.url)

            def greet(who):
                def act(page):
                    page.locator('[data-test=who]').fill(who)
                    page.locator('[data-test=go]').click()
                return act
            steps = [(lambda p: None, 'nobody'), (greet('Ada'), 'Hello, Ada!'),
                     (lambda p: p.locator('[data-test=shout]').click(), 'HELLO, ADA!'),
                     (greet('Grace'), 'HELLO, GRACE!')]
            for step in same_clicks(pages, steps):
                assert step['waved'] == step['wave_jupyter'], step
            assert 'HELLO, GRACE! SQRT(2)=1.41 steps=6' in step['waved']

            forms = {'waved': ctx.new_page(), 'wave_jupyter': ctx.new_page()}
            forms['waved'].goto(waved_forms.url)
            forms['wave_jupyter'].goto(ours_forms.url)

            def order(page):
                page.locator('[data-test=note]').fill('no cone')
                page.locator('[data-test=submit]').click()
            steps = [(lambda p: None, 'app visits: 1'), (order, 'your clicks: 1')]
            for step in same_clicks(forms, steps):
                assert step['waved'] == step['wave_jupyter'], step
        finally:
            ctx.close()
            ours.stop()
            ours_forms.stop()


def test_state_built_in_the_notebook_is_where_waved_starts(browser, tmp_path):
    """In a real kernel: notebook 02's cells, clicks, `%wave export` and `%wave checkpoint`; then waved's app starts
    from that q.app and q.user."""
    nb = nbformat.read(NOTEBOOK_02, as_version=4)
    k = Kernel()
    try:
        for cell in nb.cells:
            if cell.cell_type == 'code':
                k.run(cell.source)
        k.run('await tab.click("submit", flavor="mango")\nawait tab.click("submit")')
        visits, clicks = k.eval("(forms.state.app.visits, forms.state.users['anon'].clicks)")
        out = k.run(f'%wave export /forms {tmp_path / "forms_app.py"}\n'
                    f'%wave checkpoint /forms {tmp_path / "state"}')['stdout']
        assert 'wave run forms_app' in out and 'H2O_WAVE_CHECKPOINT_DIR' in out
    finally:
        k.shutdown()
    assert (tmp_path / 'state' / 'h2o_wave.checkpoint').is_file()
    with Waved(tmp_path / 'forms_app.py', checkpoint_dir=tmp_path / 'state') as waved:
        page = browser.new_page()
        try:
            page.goto(waved.url)
            # One more visit (this page) on top of the notebook's, and the anonymous user's clicks carried over.
            page.locator(f'text=app visits: {visits + 1} · your clicks: {clicks}').wait_for(timeout=20_000)
        finally:
            page.close()


BACKGROUND = '''
import asyncio
import concurrent.futures
import threading
import time

from h2o_wave import Q, app, main, ui  # noqa: F401


async def progress(q: Q, step: int) -> None:
    q.page['job'].bar.value = step / 300
    q.page['job'].bar.caption = f'step {step}'
    await q.page.save()


async def finished(q: Q, caption: str, after: asyncio.Future | None) -> None:
    if after is not None:  # a progress save still under way would land after this one (two PATCHes to waved)
        await asyncio.wait([after])
    q.page['job'].bar.caption = caption
    await q.page.save()


def work(q: Q, loop: asyncio.AbstractEventLoop) -> None:
    pending = None
    for step in range(1, 301):  # 30 s: time to press Cancel on a loaded machine
        if q.client.stop.is_set():
            asyncio.ensure_future(finished(q, f'cancelled at step {step}', pending), loop=loop)
            return
        time.sleep(0.1)
        if pending is None or pending.done():
            pending = asyncio.ensure_future(progress(q, step), loop=loop)
    asyncio.ensure_future(finished(q, 'ran to the end', pending), loop=loop)


@app('/job')
async def serve(q: Q):
    if not q.client.ready:
        q.client.ready = True
        q.page['job'] = ui.form_card(box='1 1 3 3', items=[
            ui.progress(name='bar', label='Work', caption='idle', value=0),
            ui.button(name='start', label='Start'), ui.button(name='cancel', label='Cancel')])
    if q.args.start:
        q.client.stop = threading.Event()
        loop = asyncio.get_event_loop()
        with concurrent.futures.ThreadPoolExecutor() as pool:
            await q.exec(pool, work, q, loop)
    if q.args.cancel and q.client.stop:
        q.client.stop.set()
    await q.page.save()
'''


def test_background_work_reports_progress_and_can_be_cancelled_on_both_servers(browser, tmp_path):
    app_file = tmp_path / 'job_app.py'
    app_file.write_text(textwrap.dedent(BACKGROUND))
    with Waved(app_file) as waved:
        ours = WaveProcess([sys.executable, '-m', 'wave_jupyter', 'run', app_file.name], tmp_path)
        try:
            for name, url in [('waved', waved.url), ('wave_jupyter', ours.url)]:
                page = browser.new_page()
                try:
                    page.goto(url)
                    page.locator('text=idle').wait_for()
                    page.locator('[data-test=start]').click()
                    page.locator('text=/step [2-9]/').wait_for(timeout=10_000)  # progress from the worker thread
                    page.locator('[data-test=cancel]').click()
                    page.locator('text=/cancelled at step \\d+/').wait_for(timeout=20_000)
                    assert page.locator('text=ran to the end').count() == 0, name
                finally:
                    page.close()
        finally:
            ours.stop()
