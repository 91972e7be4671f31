"""The notebook as a Wave server for other processes (waved's hub API): unmodified h2o_wave scripts and apps in their
own processes, with the real SDK, use our server as they use waved. Scripts save pages that tabs see live and cells
read; an app run as `wave run` runs it (uvicorn) gets its tabs' clicks and uploads, survives a kill and a restart, and
shows the same text as under waved; nothing of the hub answers without its key pair."""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest
from conftest import ServerThread, wait_for
from jupyter_process import JupyterServer
from kernel import Kernel
from support import WaveProcess, multipart, output_text, request, run_cell, same_clicks, wait_for_kernel, write_notebook
from wsclient import Tab, WaveSocket

from wave_jupyter.production import Waved, stop_process

APPS = Path(__file__).resolve().parent / 'apps'
SCRIPT = APPS / 'hub_script.py'


@pytest.fixture(scope='module')
def hub():
    st = ServerThread(reconnect_timeout=0.5)
    st.env = st.call(st.server.env)
    yield st
    st.stop()


def run_script(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=60)


def basic(key_id: str, secret: str) -> str:
    return 'Basic ' + base64.b64encode(f'{key_id}:{secret}'.encode()).decode()


def keys_of(env: dict) -> dict[str, str]:
    return {'Authorization': basic(env['H2O_WAVE_ACCESS_KEY_ID'], env['H2O_WAVE_ACCESS_KEY_SECRET'])}


def headers_only(server, method: str, path: str, headers: dict) -> int:
    """The status of a request whose body is never sent: a refusal as the headers arrive."""
    with socket.create_connection(('127.0.0.1', server.port), timeout=10) as s:
        lines = [f'{method} {path} HTTP/1.1', 'Host: 127.0.0.1', *(f'{k}: {v}' for k, v in headers.items())]
        s.sendall(('\r\n'.join(lines) + '\r\n\r\n').encode())
        return int(s.recv(200).split()[1])


def test_a_script_in_another_process_saves_pages_that_tabs_see_live(hub):
    runtime = hub.server.runtime
    hub.call(lambda: runtime.cache.setdefault('notebook', {}).update(said='hi'))  # as q.site.cache.set would
    before = WaveSocket(hub.server)
    before.hello()
    before.send('+ /ext ')  # a tab on the page before the script makes it
    before.recv_until(lambda d: d == {'e': 'not_found'})
    done = run_script(hub.env)
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout)
    # Live, byte for byte what the SDK sent: the card, then its new content.
    assert before.recv_until(lambda d: 'd' in d)['d'][0]['d']['content'] == 'hello'
    assert before.recv_until(lambda d: 'd' in d) == {'d': [{'k': 'm content', 'v': 'world'}]}
    stored = hub.call(lambda: runtime.broker.pages.dump('/ext'))
    assert said['load'] == {'p': stored} and stored['c']['m']['d']['content'] == 'world'
    assert said['given'] == 'hi' and said['keys'] == ['said']  # one cache for the notebook and the script
    assert runtime.cache['script'] == {'said': {'n': 1}}
    late = WaveSocket(hub.server)
    late.hello()
    late.send('+ /ext ')
    assert late.recv_until(lambda d: 'p' in d)['p']['c']['m']['d']['content'] == 'world'
    done = run_script(hub.env, '/ext', '--drop')
    assert done.returncode == 0, done.stderr
    late.recv_until(lambda d: d == {'d': [{}]})  # the script's page.drop()
    assert hub.call(lambda: runtime.broker.pages.dump('/ext')) == {'c': {}}
    before.close()
    late.close()
    named = f'/{uuid.uuid4()}'  # Wave's tour names its pages so: a page like a tab's id is a page all the same
    assert run_script(hub.env, named).returncode == 0
    assert hub.call(lambda: runtime.broker.pages.dump(named))['c']['m']['d']['content'] == 'world'


def test_the_hub_refuses_requests_without_its_keys_and_bad_bodies_and_keeps_serving(hub):
    server, env = hub.server, hub.env
    keys = keys_of(env)
    pages = hub.server.runtime.broker.pages
    ops = b'{"d":[{"k":"x","d":{"view":"markdown","box":"1 1 1 1","title":"t","content":"c"}}]}'

    def patch(path: str, headers: dict, body: bytes = ops, secret: bool = True) -> int:
        return request(server, 'PATCH', path, secret=secret, headers=headers, body=body)[0]

    assert patch('/h1', {}) == 405  # no keys: not the hub's request at all (the page's address)
    assert patch('/h1', {'Authorization': basic(env['H2O_WAVE_ACCESS_KEY_ID'], 'wrong')}) == 401
    assert patch('/h1', {'Authorization': basic('access_key_id', 'access_key_secret')}) == 401  # waved's default
    assert patch('/h1', {'Authorization': 'Basic !!!'}) == 401
    assert patch('/h1', keys, secret=False) == 403  # the keys without the server's secret path
    assert patch('/h1', {**keys, 'Origin': 'http://evil.example', 'Sec-Fetch-Site': 'cross-site'}) == 403
    for body in (b'{"d":', b'[1]', b'{"d":5}', b'\xff', b'[' * 100_000):  # (a bad op alone is skipped, as by waved)
        assert patch('/h1', keys, body) == 400, body
    assert '/h1' not in pages.paths()
    big = json.dumps({'d': [{'k': 'x', 'd': {'view': 'markdown', 'box': '1 1 1 1', 'title': 't',
                                              'content': 'y' * 200_000}}]}).encode()
    assert patch('/h1', keys, big) == 200  # above the browser side's 64 KiB, as waved takes it
    assert patch('/h3', keys, '{"d":[]}'.encode('utf-16')) == 200  # JSON in UTF-16: relayed as UTF-8
    assert headers_only(server, 'PATCH', server.root + 'h2', {**keys, 'Content-Length': str(6 << 20)}) == 413
    assert '/h2' not in pages.paths()
    status, _, body = request(server, 'GET', '/h1', secret=True, headers={**keys, 'Content-Type': 'application/json'})
    assert status == 200 and json.loads(body)['p']['c']['x']['d']['content'] == 'y' * 200_000
    register = {'register_app': {'mode': 'unicast', 'route': '/mine', 'address': 'http://127.0.0.1:9',
                                 'key_id': 'a', 'key_secret': 'b'}}
    hub.listen('/mine', lambda q: None)
    status, _, body = request(server, 'POST', '/', secret=True, headers=keys, body=json.dumps(register).encode())
    assert status == 409 and b'app of this notebook' in body  # a notebook's app keeps its route
    for bad in ({'register_app': {'route': 'x'}}, {'register_app': {**register['register_app'], 'mode': 'any'}},
                {'register_app': {**register['register_app'], 'address': 'file:///etc'}}, {'nothing': 1}):
        assert request(server, 'POST', '/', secret=True, headers=keys, body=json.dumps(bad).encode())[0] == 400
    other = {'register_app': {**register['register_app'], 'route': '/taken'}}
    assert request(server, 'POST', '/', secret=True, headers=keys, body=json.dumps(other).encode())[0] == 200
    remote = server.runtime.apps['/taken']
    hub.listen('/taken', lambda q: None)  # a notebook's app takes the route of another process's
    assert type(server.runtime.apps['/taken']).__name__ == 'App' and remote.dropped
    assert request(server, 'GET', '/_c/s/missing', secret=True, headers=keys)[0] == 404
    assert request(server, 'POST', '/_p/', secret=True, headers=keys)[0] == 501
    assert request(server, 'POST', '/_m/x', secret=True, headers=keys, body=b'{}')[0] == 400  # not multipart
    body, content_type = multipart('files', 'x.txt', b'x')
    status, _, reply = request(server, 'POST', '/_f/', secret=True, headers={**keys, 'Content-Type': content_type},
                               body=body)  # q.site.upload of another process
    (url,) = json.loads(reply)['files']
    assert status == 200 and request(server, 'GET', url)[2] == b'x'
    assert request(server, 'DELETE', url)[0] == 403  # q.site.unload needs the keys
    assert request(server, 'DELETE', url, headers=keys)[0] == 200
    assert request(server, 'GET', url)[0] == 404
    tab = Tab('/mine', server)  # and the server still serves its browsers
    tab.recv_docs()
    tab.close()


def test_an_unmodified_app_under_wave_run_gets_clicks_uploads_and_survives_a_kill(browser, tmp_path):
    """`python -m wave_jupyter serve` as the Wave server, `wave run` as the app's runner, Chromium as the user."""
    env_file = tmp_path / 'wave.env'
    server = WaveProcess([sys.executable, '-m', 'wave_jupyter', 'serve', '--port', '0', '--env-file', str(env_file)],
                         tmp_path)
    app = None
    try:
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        env = dict(re.findall(r"^export (\w+)='([^']*)'$", env_file.read_text(), re.M))
        assert set(env) >= {'H2O_WAVE_ADDRESS', 'H2O_WAVE_BASE_URL', 'H2O_WAVE_ACCESS_KEY_ID',
                            'H2O_WAVE_ACCESS_KEY_SECRET', 'H2O_WAVE_LISTEN', 'H2O_WAVE_NO_AUTOSTART'}

        def wave_run() -> subprocess.Popen:
            p = subprocess.Popen([sys.executable, '-m', 'h2o_wave', 'run', '--no-reload', 'hub_demo'], cwd=APPS,
                                 env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            url = server.next_url(timeout=60)  # the server says where the app is once it registers
            assert url.endswith('/demo')
            return p, url

        app, url = wave_run()
        assert not [c for c in psutil.Process(app.pid).children(recursive=True) if 'waved' in c.name()]
        ctx = browser.new_context()
        page = ctx.new_page()
        page.goto(url)
        page.locator('text=Nothing yet').wait_for(timeout=20_000)
        page.fill('[data-test=txt]', 'world')
        page.click('[data-test=go]')
        page.locator('text=Clicked 1: world').wait_for()
        note = tmp_path / 'note.txt'
        note.write_text('from the browser')
        page.set_input_files('input[type=file]', str(note))
        page.click('button:has-text("Attach")')
        page.locator('text=Attached from the browser').wait_for()  # downloaded, then unloaded, by the app's process
        app.send_signal(signal.SIGKILL)  # no unregister: the next click finds it gone
        app.wait(10)
        with page.expect_event('load', timeout=20_000):  # the server drops it: {"r":1}, the tab reloads
            page.click('[data-test=go]')
        page.wait_for_function("() => document.body.innerText.trim() && !document.body.innerText.includes('Clicked')")
        app, url = wave_run()  # it registers again: the open tab reloads into it
        page.locator('text=Nothing yet').wait_for(timeout=20_000)
        page.fill('[data-test=txt]', 'again')
        page.click('[data-test=go]')
        page.locator('text=Clicked 1: again').wait_for()
        ctx.close()  # the tab goes: after the reconnect timeout the app hears client_disconnect
        at = SimpleNamespace(port=int(env['H2O_WAVE_LISTEN'].rsplit(':', 1)[1]), root=env['H2O_WAVE_BASE_URL'])

        def gone() -> int:  # the tabs the app heard leave (it counts them in q.site.cache)
            status, _, body = request(at, 'GET', '/_c/tabs/gone', secret=True, headers=keys_of(env))
            return json.loads(body) if status == 200 else 0
        wait_for(lambda: gone() >= 1, timeout=30, what="the app's disconnect handler")
    finally:
        if app is not None:
            stop_process(app)
        server.stop()


def test_an_app_of_another_process_in_broadcast_mode_shares_its_page_and_can_be_replaced(hub):
    env = {**hub.env, 'HUB_DEMO_MODE': 'broadcast'}
    app = subprocess.Popen([sys.executable, '-m', 'h2o_wave', 'run', '--no-reload', 'hub_demo'], cwd=APPS,
                           env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: '/demo' in hub.server.runtime.apps, timeout=60, what='the app to register')
        ada, bob = Tab('/demo', hub.server), Tab('/demo', hub.server)
        ada.recv_text('Nothing yet')
        bob.recv_text('Nothing yet')
        ada.click(txt='for all', go=True)
        bob.recv_text('Clicked 1: for all')  # one page for every tab: the other tab sees the click
        carol = Tab('/demo', hub.server)
        carol.recv_text('Clicked 1: for all')  # a tab that comes later gets the shared page as it is
        carol.close()
        register = {'register_app': {'mode': 'unicast', 'route': '/demo', 'address': 'http://127.0.0.1:9',
                                     'key_id': 'k', 'key_secret': 's'}}
        status = request(hub.server, 'POST', '/', secret=True, headers=keys_of(hub.env),
                         body=json.dumps(register).encode())[0]
        assert status == 200  # registering over a route: the newest app has it, its tabs reload
        ada.recv_until(lambda d: d == {'r': 1})
        assert hub.call(lambda: hub.server.runtime.apps['/demo'].address) == 'http://127.0.0.1:9'
        bob.recv_until(lambda d: d == {'r': 1})
        ada.close()
        bob.close()
    finally:
        stop_process(app)  # its unregister_app names the route: like waved, the hub frees it, whoever holds it
    wait_for(lambda: '/demo' not in hub.server.runtime.apps, timeout=10, what='the route to be free')


UPLINK = '''import io, sys
from h2o_wave import site
if sys.argv[1] == 'end':
    site.unlink('cam/x.jpeg')
else:
    print(site.uplink('cam/x.jpeg', 'image/jpeg', io.BytesIO(sys.argv[1].encode())))
'''


def test_an_uplinked_stream_reaches_a_browser_frame_by_frame_until_it_is_unlinked(hub):
    def sdk(arg: str) -> str:
        done = subprocess.run([sys.executable, '-c', UPLINK, arg], env={**os.environ, **hub.env}, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    endpoint = sdk('one')
    assert endpoint == hub.server.root + '_m/cam/x.jpeg'
    viewer = http.client.HTTPConnection('127.0.0.1', hub.server.port, timeout=10)  # as an <img> asks for it
    viewer.request('GET', endpoint)
    reply = viewer.getresponse()
    boundary = re.fullmatch(r'multipart/x-mixed-replace; boundary=(\w+)', reply.headers['Content-Type']).group(1)

    def part() -> bytes:
        assert reply.readline() == f'--{boundary}\r\n'.encode()
        headers = dict(line.decode().strip().split(': ', 1) for line in iter(reply.readline, b'\r\n'))
        assert headers['Content-Type'] == 'image/jpeg'
        body = reply.read(int(headers['Content-Length']))
        assert reply.readline() == b'\r\n'
        return body

    assert part() == b'one'  # the latest frame at once
    sdk('two')
    assert part() == b'two'  # then each new one as it comes
    sdk('end')
    assert reply.readline() == f'--{boundary}--\r\n'.encode()  # unlinked: the answer ends
    viewer.close()
    assert request(hub.server, 'GET', '/_m/cam/x.jpeg', secret=True)[0] == 404


def test_an_app_that_registers_before_it_listens_gets_its_first_query_when_it_does(hub):
    """h2o_wave registers an app before uvicorn listens: a tab that reloads into it at once must not lose it."""
    got: list[bytes] = []

    class App(BaseHTTPRequestHandler):
        def do_POST(self):
            got.append(self.rfile.read(int(self.headers['Content-Length'] or 0)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    probe = socket.socket()
    probe.bind(('127.0.0.1', 0))
    port = probe.getsockname()[1]
    probe.close()
    register = {'register_app': {'mode': 'unicast', 'route': '/late', 'address': f'http://127.0.0.1:{port}',
                                 'key_id': 'k', 'key_secret': 's'}}
    assert request(hub.server, 'POST', '/', secret=True, headers=keys_of(hub.env),
                   body=json.dumps(register).encode())[0] == 200
    tab = Tab('/late', hub.server)  # its boot query meets a closed port
    wait_for(lambda: hub.server.runtime.apps['/late'].refused >= 3, timeout=5, what='the app to refuse the query')
    app = HTTPServer(('127.0.0.1', port), App)  # the app starts listening
    threading.Thread(target=app.serve_forever, daemon=True).start()
    try:
        wait_for(lambda: got, timeout=10, what='the boot query to reach the app')
        assert json.loads(got[0])['data'] == {} and '/late' in hub.server.runtime.apps
    finally:
        app.shutdown()
        tab.close()
        hub.call(lambda: hub.server.runtime.apps['/late'].drop('the test is done'))


def test_the_same_app_file_shows_the_same_text_under_waved_and_under_our_hub(browser, tmp_path):
    hub_server = ServerThread(reconnect_timeout=0.5)
    env = hub_server.call(hub_server.server.env)
    app = subprocess.Popen([sys.executable, '-m', 'h2o_wave', 'run', '--no-reload', 'hub_demo'], cwd=APPS,
                           env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: '/demo' in hub_server.server.runtime.apps, timeout=60, what='the app to register')
        with Waved(APPS / 'hub_demo.py') as waved:
            ctx = browser.new_context()
            pages = {'waved': ctx.new_page(), 'hub': ctx.new_page()}
            pages['waved'].goto(waved.url)
            pages['hub'].goto(hub_server.url('/demo'))

            def type_and_go(text):
                def act(page):
                    page.fill('[data-test=txt]', text)
                    page.click('[data-test=go]')
                return act
            steps = [(lambda p: None, 'Nothing yet'), (type_and_go('one'), 'Clicked 1: one'),
                     (type_and_go('two'), 'Clicked 2: two')]
            for seen in same_clicks(pages, steps):
                assert seen['waved'] == seen['hub'], seen
            ctx.close()
    finally:
        stop_process(app)
        hub_server.stop()


def test_a_notebook_hands_its_server_to_a_process_and_reads_what_it_wrote(tmp_path):
    kernel = Kernel()
    try:
        kernel.run('%load_ext wave_jupyter')
        out = kernel.run('%wave env')['stdout']
        assert 'H2O_WAVE_ADDRESS' in out and 'H2O_WAVE_ACCESS_KEY_SECRET' in out
        secret = kernel.eval("__import__('os').environ['H2O_WAVE_ACCESS_KEY_SECRET']")
        base = kernel.eval("__import__('os').environ['H2O_WAVE_BASE_URL']")
        assert secret not in out and base.strip('/') not in out  # names, never values: the output is saved
        kernel.run('from h2o_wave import ui\nfrom wave_jupyter import listen, site, apps\n'
                   'async def serve(q):\n    q.page["a"] = ui.markdown_card(box="1 1 1 1", title="in", content="x")\n'
                   '    await q.page.save()\n'
                   "local = listen('/local', serve)")
        # In the background (the server runs on the kernel's loop: a cell that blocks on the process blocks it).
        done = kernel.run(f'import asyncio, sys\n'
                          f'p = await asyncio.create_subprocess_exec(sys.executable, {str(SCRIPT)!r}, '
                          f'"/from-a-script", stderr=asyncio.subprocess.PIPE)\n'
                          f'print(await p.wait(), (await p.stderr.read()).decode()[-500:])', timeout=60)
        assert done['stdout'].startswith('0'), done
        page = kernel.eval("site.load('/from-a-script')")
        assert page['p']['c']['m']['d']['content'] == 'world'
        assert kernel.eval('list(apps)') == ['/local']  # the notebook's own app, beside the script's page
        env_file = tmp_path / 'k.env'
        out = kernel.run(f'%wave env --file {env_file}')['stdout']
        assert str(env_file) in out and secret in env_file.read_text() and secret not in out
    finally:
        kernel.shutdown()


RUN_SCRIPT = ('import asyncio, sys\n'
              'p = await asyncio.create_subprocess_exec(sys.executable, {script!r}, "/ext", "--say", {say!r})\n'
              'print("exit", await p.wait())')
START_APP = ('import subprocess, sys\nfrom wave_jupyter import PROCESS\n'
             'app = subprocess.Popen([sys.executable, "-m", "h2o_wave", "run", "--no-reload", "hub_demo"],\n'
             '                       cwd={apps!r})\n'
             'while "/demo" not in PROCESS.current_runtime.apps:\n    await asyncio.sleep(0.1)\n'
             "print('registered')")


def test_jupyterlab_views_show_a_scripts_page_live_and_an_app_of_another_process(browser, tmp_path):
    cells = ['%load_ext wave_jupyter\n%wave env', RUN_SCRIPT.format(script=str(SCRIPT), say='first'),
             '%wave show /ext', RUN_SCRIPT.format(script=str(SCRIPT), say='second'), START_APP.format(apps=str(APPS)),
             '%wave show /demo', '%wave status', 'app.terminate(); app.wait()']
    write_notebook(tmp_path / 'hub.ipynb', cells)
    server = JupyterServer(tmp_path, extra_args=('--LabApp.expose_app_in_browser=True',))
    ctx = browser.new_context(viewport={'width': 1400, 'height': 1000})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f'{server.url}lab/tree/hub.ipynb?token={server.token}')
        page.wait_for_selector('.jp-Notebook .jp-Cell')
        wait_for_kernel(page)
        for i in range(3):
            run_cell(page, i)
        assert 'exit 0' in output_text(page, 1)
        script_view = page.frame_locator('.jp-Notebook .jp-Cell >> nth=2 >> iframe.wave-jupyter-frame')
        script_view.locator('text=first').wait_for()
        run_cell(page, 3)  # the script runs again: the open view shows its new page at once
        script_view.locator('text=second').wait_for()
        run_cell(page, 4, timeout=90)
        run_cell(page, 5)
        app_view = page.frame_locator('.jp-Notebook .jp-Cell >> nth=5 >> iframe.wave-jupyter-frame')
        app_view.locator('text=Nothing yet').wait_for()
        app_view.locator('[data-test=txt]').fill('from the notebook')
        app_view.locator('[data-test=go]').click()
        app_view.locator('text=Clicked 1: from the notebook').wait_for()  # the click reached the other process
        run_cell(page, 6)
        assert 'another process (127.0.0.1:' in output_text(page, 6)
        run_cell(page, 7)
    finally:
        ctx.close()
        server.stop()
