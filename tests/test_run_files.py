"""Unmodified Wave files under ``python -m wave_jupyter run FILE`` (apps, scripts, legacy listen); ``python app.py``."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
from support import WaveProcess

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def run_file() -> Iterator:
    procs: list[WaveProcess] = []

    def start(path: Path) -> WaveProcess:
        p = WaveProcess([sys.executable, '-m', 'wave_jupyter', 'run', str(path)], path.parent)
        procs.append(p)
        return p

    yield start
    for p in procs:
        p.stop()


def write(tmp_path: Path, name: str, code: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(code))
    return path


def templates() -> list[Path]:
    files = metadata.files('h2o-wave') or []
    return sorted(Path(str(f.locate())) for f in files
                  if f.parent.name == 'project_templates' and f.suffix == '.py')


EXPECTED = {  # a text each template shows once rendered
    'hello_world.py': 'Welcome to H2O Wave',
    'header.py': 'My Wave App',
    'header_nav.py': 'How does magic work',
    'header_sidebar_nav.py': 'How does magic work',
    'sidebar_nav.py': 'How does magic work',
    'chat.py': 'My App',
}


def test_every_project_template_is_found():
    assert {p.name for p in templates()} >= set(EXPECTED)


@pytest.mark.parametrize('template', templates(), ids=lambda p: p.name)
def test_project_template_runs_unmodified_and_renders(run_file, page, template):
    wave = run_file(template)
    assert wave.url.endswith('/')  # the templates are apps at '/'
    page.goto(wave.url)
    page.wait_for_selector(f'text={EXPECTED.get(template.name, "")}')
    assert page.locator('[data-test=__unhandled_error__]').count() == 0
    if template.name == 'hello_world.py':
        page.click('text=Current count: 0')
        page.wait_for_selector('text=Current count: 1')


def test_script_with_endless_loop_streams_to_the_browser(run_file, page, tmp_path):
    script = write(tmp_path, 'ticker.py', '''
        import time
        from h2o_wave import site, ui

        page = site['/ticker']
        page['t'] = ui.markdown_card(box='1 1 2 2', title='Ticker', content='tick 0')
        page.save()
        i = 0
        while True:
            i += 1
            page['t'].content = f'tick {i}'
            page.save()
            time.sleep(0.05)
    ''')
    wave = run_file(script)
    assert wave.url.endswith('/ticker')
    page.goto(wave.url)
    first = int(page.wait_for_selector('text=/tick \\d+/').inner_text().split()[-1])
    page.wait_for_function(f'() => /tick (\\d+)/.test(document.body.innerText) && '
                           f'+document.body.innerText.match(/tick (\\d+)/)[1] >= {first + 5}')


def test_legacy_listen_file_runs(run_file, page, tmp_path):
    app = write(tmp_path, 'legacy.py', '''
        from h2o_wave import Q, listen, ui

        async def serve(q: Q):
            q.page['x'] = ui.form_card(box='1 1 2 2', items=[ui.button(name='go', label='Go'),
                                                             ui.text(f'go={q.args.go}')])
            await q.page.save()

        listen('/legacy', serve)
    ''')
    wave = run_file(app)
    assert wave.url.endswith('/legacy')
    page.goto(wave.url)
    page.click('[data-test=go]')
    page.wait_for_selector('text=go=True')


def test_app_file_with_on_handlers_and_startup(run_file, page, tmp_path):
    app = write(tmp_path, 'routed.py', '''
        from h2o_wave import main, app, Q, ui, on, run_on

        started = []

        async def startup():
            started.append(True)

        @on()
        async def hello(q: Q):
            q.page['out'].content = f'hello handled, started={started}'

        @app('/routed', mode='unicast', on_startup=startup)
        async def serve(q: Q):
            if not q.client.initialized:
                q.client.initialized = True
                q.page['f'] = ui.form_card(box='1 1 2 2', items=[ui.button(name='hello', label='Hello')])
                q.page['out'] = ui.markdown_card(box='3 1 2 2', title='Out', content='-')
            await run_on(q)
            await q.page.save()
    ''')
    wave = run_file(app)
    page.goto(wave.url)
    page.click('[data-test=hello]')
    page.wait_for_selector('text=hello handled, started=[True]')


def test_plain_python_app_with_listen_serves_until_terminated(page):
    wave = WaveProcess([sys.executable, str(ROOT / 'examples' / 'greet.py')], ROOT)
    try:
        page.goto(wave.url)
        page.fill('[data-test=who]', 'Grace')
        page.click('[data-test=go]')
        page.wait_for_selector('text=Hello, Grace!')
    finally:
        wave.stop()
    assert wave.proc.returncode == 0  # SIGTERM ends it cleanly


def test_run_reports_a_missing_file():
    res = subprocess.run([sys.executable, '-m', 'wave_jupyter', 'run', 'no/such/file.py'], capture_output=True,
                         text=True, timeout=30)
    assert res.returncode == 2 and 'no such Wave file or module: no/such/file.py' in res.stderr


def test_busy_port_is_a_clear_error(tmp_path):
    import socket
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    s.listen()
    port = s.getsockname()[1]
    script = write(tmp_path, 'x.py', 'from h2o_wave import site\n')
    res = subprocess.run([sys.executable, '-m', 'wave_jupyter', 'run', str(script), '--port', str(port)],
                         capture_output=True, text=True, timeout=30)
    s.close()
    assert res.returncode == 1 and f'cannot listen on 127.0.0.1:{port}' in res.stderr


@pytest.mark.parametrize('line', ['from h2o_wave import site, ui, graphics as g', 'from h2o_wave import share',
                                  'import h2o_wave.graphics as g', 'from h2o_wave.graphics import draw'])
def test_facade_imports_sdk_submodules(tmp_path, line):
    from wave_jupyter.files import exec_file
    ns = exec_file(str(write(tmp_path, 'imports.py', line + '\n')))
    assert any(isinstance(v, type(textwrap)) or callable(v) for k, v in ns.items() if not k.startswith('__'))


def test_facade_unknown_name_is_an_import_error(tmp_path):
    from wave_jupyter.files import exec_file
    with pytest.raises(ImportError, match='no_such_thing'):
        exec_file(str(write(tmp_path, 'bad.py', 'from h2o_wave import no_such_thing\n')))


def test_file_that_fails_before_serving_exits_non_zero(tmp_path):
    script = write(tmp_path, 'broken.py', 'raise RuntimeError("broken at import")\n')
    res = subprocess.run([sys.executable, '-m', 'wave_jupyter', 'run', str(script), '--port', '0'],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 1
    assert 'broken at import' in res.stderr and 'failed before serving anything' in res.stderr


PACKAGE = {
    '__init__.py': '',
    'synth.py': 'def label() -> str:\n    return "made by synth"\n',
    'app.py': '''
        from h2o_wave import Q, app, main, ui

        from .synth import label


        @app('/pkg')
        async def serve(q: Q):
            q.page['t'] = ui.markdown_card(box='1 1 3 2', title='Package', content=label())
            await q.page.save()
        ''',
}


@pytest.mark.parametrize('target', ['shop.app', 'shop/app.py'], ids=['module-name', 'file-in-package'])
def test_run_takes_what_wave_run_takes_and_relative_imports_work(page, tmp_path, target):
    (tmp_path / 'shop').mkdir()
    for name, code in PACKAGE.items():
        write(tmp_path / 'shop', name, code)
    wave = WaveProcess([sys.executable, '-m', 'wave_jupyter', 'run', target, '--no-autostart'], tmp_path)
    try:
        assert wave.url.endswith('/pkg')
        page.goto(wave.url)
        page.wait_for_selector('text=made by synth')
    finally:
        wave.stop()


RELOADED = '''
    from h2o_wave import Q, app, main, on, run_on, ui


    @on()
    async def more(q: Q):
        q.client.n = (q.client.n or 0) + 1
        q.app.total = (q.app.total or 0) + 1


    @app('/live')
    async def serve(q: Q):
        await run_on(q)
        q.page['c'] = ui.form_card(box='1 1 3 3', items=[
            ui.button(name='more', label='More'),
            ui.text(f'VERSION n={q.client.n or 0} total={q.app.total or 0}')])
        await q.page.save()
    '''


def test_reload_swaps_the_handler_keeping_state_and_the_open_tab(page, tmp_path):
    app_file = write(tmp_path, 'live.py', RELOADED.replace('VERSION', 'v1'))
    wave = WaveProcess([sys.executable, '-m', 'wave_jupyter', 'run', 'live.py', '--reload'], tmp_path)
    try:
        page.goto(wave.url)
        page.wait_for_selector('text=v1 n=0 total=0')
        page.evaluate('() => { window.sameDocument = true; }')
        page.click('[data-test=more]')
        page.click('[data-test=more]')
        page.wait_for_selector('text=v1 n=2 total=2')
        v2 = textwrap.dedent(RELOADED.replace('VERSION', 'v2')).replace('+ 1\n    q.app', '+ 10\n    q.app')
        assert '+ 10' in v2
        app_file.write_text(v2)
        page.wait_for_selector('text=v2 n=2 total=2')  # the new handler, the same q.client and q.app
        assert page.evaluate('() => window.sameDocument') is True  # the tab was not reloaded
        page.click('[data-test=more]')
        page.wait_for_selector('text=v2 n=12 total=3')  # the new @on handler, not the old one
    finally:
        wave.stop()


def test_cli_help_describes_every_command_with_examples():
    def help_of(*args: str) -> str:
        done = subprocess.run([sys.executable, '-m', 'wave_jupyter', *args, '--help'], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    top = help_of()
    assert re.search(r'run +serve a Wave app or script', top) and re.search(r'export +write a notebook', top)
    assert re.search(r'lite +a Wave app as a static site', top)
    assert 'examples:' in top and '``' not in top  # no raw reST
    for command in ('run', 'export', 'lite'):
        text = help_of(command)
        assert 'examples:' in text and f'python -m wave_jupyter {command}' in text and '``' not in text
