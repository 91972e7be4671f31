"""The attacks of a hostile review, each tried against a live server: the attack fails, legitimate use still works.

The attacker is another local port (a page or server on 127.0.0.1, as another user's process on a shared JupyterHub
node would be): it shares the host's cookies with us, but not our paths.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from conftest import ServerThread, wait_for
from h2o_wave import ui
from hostile import Attacker, shut, squat
from support import greet, multipart, request
from websockets.sync.client import connect
from wsclient import WaveSocket, joined

from wave_jupyter import Q, events
from wave_jupyter.server import MAX_INDEX_PAGES


@pytest.fixture
def attacker() -> Iterator[Attacker]:
    a = Attacker()
    yield a
    a.close()


def greet_in_browser(page: Any, url: str, who: str = 'Ada') -> None:
    page.goto(url)
    page.fill('[data-test=who]', who)
    page.click('[data-test=go]')
    page.wait_for_selector(f'text=Hello, {who}!')


# --- 1 (high): a cookie planted by another port decided where the page loaded its code from -------------------------


def test_prefix_cookie_from_another_port_cannot_load_script_into_the_app(wave, context, attacker):
    app = wave.listen('/demo', greet)
    port = wave.server.port
    page = context.new_page()
    greet_in_browser(page, app.url)  # the user has the app open
    attacker.pages['/plant.html'] = (
        f"<script>document.cookie = 'wave_jupyter_{port}_prefix=//127.0.0.1:{attacker.port}; path=/';"
        f"document.cookie = 'wave_jupyter_{port}=stale-or-planted; path=/';</script>planted")
    page.goto(f'{attacker.origin}/plant.html')
    page.wait_for_selector('text=planted')
    assert {c['name'] for c in context.cookies()} >= {f'wave_jupyter_{port}_prefix'}  # the browser took them
    attacker.seen.clear()
    errors: list[str] = []
    page.on('console', lambda m: errors.append(m.text) if m.type == 'error' else None)
    greet_in_browser(page, app.url, 'Bo')  # and opens it again
    assert attacker.seen == []  # not one request went to the attacker's port
    assert page.evaluate('window.pwned === undefined')
    assert page.evaluate('document.body.dataset.baseUrl') == wave.server.root
    loaded = page.eval_on_selector_all('script[src], link[href]', 'els => els.map(e => e.src || e.href)')
    assert loaded and all(u.startswith(f'http://127.0.0.1:{port}{wave.server.root}') for u in loaded), loaded
    assert not [e for e in errors if 'Content Security Policy' in e or 'frame-ancestors' in e]  # item 15 too


@pytest.mark.parametrize('prefix', ['//127.0.0.1:1', '//evil.example/x', '/\\evil.example', 'http://evil.example',
                                    'javascript:alert(1)', '/a/../\t/b', '/"><script>', '/ok//x'])
def test_only_a_plain_path_from_the_proxy_header_becomes_the_asset_base(wave, prefix):
    status, _, body = request(wave.server, 'GET', '/demo', secret=True, headers={'X-Forwarded-Prefix': prefix})
    assert status == 200
    assert f'data-base-url="{wave.server.root}"'.encode() in body  # the bad prefix is ignored
    assert b'src="//' not in body and b'href="//' not in body


def test_the_proxy_prefix_still_counts(wave):
    prefix = f'/user/test/proxy/127.0.0.1:{wave.server.port}'
    _, _, body = request(wave.server, 'GET', '/demo', secret=True, headers={'X-Forwarded-Prefix': prefix})
    assert f'data-base-url="{prefix}{wave.server.root}"'.encode() in body
    assert f'src="{prefix}{wave.server.root}wave-static/'.encode() in body


# --- 2: the secret went to every other port; 3: a stale or planted cookie beat a valid URL ----------------------------


def test_other_ports_never_receive_or_use_the_secret(wave, context, attacker):
    app = wave.listen('/demo', greet)
    page = context.new_page()
    greet_in_browser(page, app.url)
    assert context.cookies() == []  # nothing the browser would send to other ports
    secret = wave.server.secret
    attacker.pages['/steal.html'] = f'''<script>
        window.result = 'pending';
        const ws = new WebSocket('ws://127.0.0.1:{wave.server.port}/_s/');
        ws.onopen = () => {{ window.result = 'opened'; }};
        ws.onerror = () => {{ window.result = 'refused'; }};
        fetch('http://127.0.0.1:{wave.server.port}/demo', {{credentials: 'include', mode: 'no-cors'}});
        </script>stolen?'''
    page.goto(f'{attacker.origin}/steal.html')
    wait_for(lambda: page.evaluate('window.result') != 'pending', what='the WebSocket attempt')
    assert page.evaluate('window.result') == 'refused'
    assert attacker.seen and not any(secret in json.dumps(h) for _, h in attacker.seen)
    assert len(app.tabs) == 1  # only the user's own tab ever joined


def test_a_valid_url_wins_over_any_stale_or_planted_cookie(wave, context):
    app = wave.listen('/demo', greet)
    port = wave.server.port
    context.add_cookies([
        {'name': f'wave_jupyter_{port}', 'value': 'old-secret-of-a-previous-server', 'url': f'http://127.0.0.1:{port}'},
        {'name': f'wave_jupyter_{port}_prefix', 'value': '/elsewhere', 'url': f'http://127.0.0.1:{port}'}])
    greet_in_browser(context.new_page(), app.url)
    assert app.last_query.args.who == 'Ada'


# --- 4 and 5: bodies read before the secret was checked; idle sockets exhausting file descriptors ---------------------


SERVE_SCRIPT = '''
import asyncio, resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, ({nofile}, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
from h2o_wave import ui
from wave_jupyter import Server

async def serve(q):
    q.page['c'] = ui.markdown_card(box='1 1 2 2', title='t', content=f'n={{q.args.n}}')
    await q.page.save()

async def main():
    srv = Server(0, header_timeout={header_timeout}, max_unproven={max_unproven}).start()
    srv.mount('/demo', serve)
    print(srv.port, srv.secret, srv.runtime.uploads.root, flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
'''


class ServerProcess:
    """A server in a process of its own, with its own file-descriptor limit, so its memory and CPU can be read."""

    def __init__(self, tmp_path: Any, nofile: int = 1024, header_timeout: float = 30, max_unproven: int = 128) -> None:
        import subprocess
        import sys
        script = tmp_path / 'serve.py'
        script.write_text(SERVE_SCRIPT.format(nofile=nofile, header_timeout=header_timeout, max_unproven=max_unproven))
        self.stderr_path = tmp_path / 'stderr.txt'
        with open(self.stderr_path, 'wb') as stderr:
            self.proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=stderr,
                                         text=True)
        port, self.secret, self.uploads = self.proc.stdout.readline().split()
        self.port = int(port)
        self.root = f'/{self.secret}/'

    def rss(self) -> int:
        with open(f'/proc/{self.proc.pid}/status') as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith('VmRSS:'))

    def cpu(self) -> float:
        with open(f'/proc/{self.proc.pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors='replace')

    def get(self, path: str, timeout: float = 10) -> int:
        conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=timeout)
        conn.request('GET', path)
        status = conn.getresponse().status
        conn.close()
        return status

    def round_trip(self, n: int) -> float:
        """Seconds for a legitimate tab to connect, click and see the answer."""
        t0 = time.monotonic()
        with connect(f'ws://127.0.0.1:{self.port}{self.root}_s/', origin=f'http://127.0.0.1:{self.port}',
                     open_timeout=10) as ws:
            json.loads(ws.recv(timeout=10))
            ws.send('+ /demo ')
            ws.send(f'@ /demo {{"n": {n}}}')
            while f'n={n}' not in ws.recv(timeout=10):
                pass
        return time.monotonic() - t0

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(5)


@pytest.fixture
def server_process(tmp_path) -> Iterator[Any]:
    procs: list[ServerProcess] = []

    def start(**options: Any) -> ServerProcess:
        procs.append(ServerProcess(tmp_path, **options))
        return procs[-1]

    yield start
    for p in procs:
        p.close()


def _post_headers(path: str, length: int, port: int) -> bytes:
    return (f'POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: multipart/form-data; boundary=b\r\n'
            f'Content-Length: {length}\r\n\r\n').encode()


def test_unauthenticated_bodies_are_never_read(server_process):
    srv = server_process()
    before = srv.rss()
    size = 250 << 20
    sent = [0] * 4
    answers: list[bytes] = [b''] * 4

    def attack(i: int) -> None:
        s = socket.create_connection(('127.0.0.1', srv.port))
        s.settimeout(10)
        s.sendall(_post_headers('/_f/', size, srv.port))
        chunk = b'x' * (1 << 20)
        try:
            while sent[i] < size:
                s.sendall(chunk)
                sent[i] += len(chunk)
        except OSError:
            pass  # the server answered and hung up
        try:
            answers[i] = s.recv(200)
        except OSError:
            pass
        s.close()

    threads = [threading.Thread(target=attack, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    assert srv.round_trip(1) < 5  # a legitimate tab is served during the attack
    for t in threads:
        t.join(60)
    assert max(sent) < 32 << 20, sent  # the server stopped taking each body at once (socket buffers aside)
    assert any(a.startswith(b'HTTP/1.1 403') for a in answers) or all(s < 32 << 20 for s in sent)
    assert srv.rss() - before < 40 << 20, (before, srv.rss())


def test_a_large_upload_streams_to_disk_and_the_loop_keeps_serving(server_process):
    srv = server_process()
    before = srv.rss()
    size = 250 << 20
    head = b'--b\r\nContent-Disposition: form-data; name="files"; filename="big.bin"\r\n\r\n'
    tail = b'\r\n--b--\r\n'
    reply: list[bytes] = []

    def upload() -> None:
        s = socket.create_connection(('127.0.0.1', srv.port))
        s.sendall(_post_headers(f'{srv.root}_f/', len(head) + size + len(tail), srv.port) + head)
        chunk = b'y' * (1 << 20)
        for _ in range(size >> 20):
            s.sendall(chunk)
        s.sendall(tail)
        s.settimeout(60)
        data = b''
        while b'"files"' not in data:
            got = s.recv(4096)
            if not got:
                break
            data += got
        reply.append(data)
        s.close()

    t = threading.Thread(target=upload)
    t.start()
    worst = max(srv.round_trip(n) for n in range(5))
    t.join(120)
    assert reply and b'200 OK' in reply[0] and b'big.bin' in reply[0]
    stored = json.loads(reply[0].split(b'\r\n\r\n', 1)[1])['files'][0]
    assert os.path.getsize(os.path.join(srv.uploads, stored.split('/_f/', 1)[1])) == size
    assert srv.rss() - before < 64 << 20, (before, srv.rss())  # was ~1 GB when the body was held in memory
    assert worst < 2, worst


def test_half_sent_requests_do_not_starve_clients_or_spin(server_process):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1300:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    srv = server_process(nofile=1024, header_timeout=3)
    socks = []
    for _ in range(1100):
        s = socket.create_connection(('127.0.0.1', srv.port))
        s.sendall(b'GET /demo HTTP/1.1\r\nHost: x\r\n')  # never finished
        socks.append(s)
    cpu0 = srv.cpu()
    assert srv.get(f'{srv.root}demo') == 200  # served at once, while 1100 half-sent requests wait
    assert srv.round_trip(7) < 5
    time.sleep(2)  # the idle attack costs nothing: measure CPU over two seconds of it
    assert srv.cpu() - cpu0 < 0.5
    assert len(srv.stderr()) < 20_000, srv.stderr()[-2000:]  # no traceback per connection

    def closed(s: socket.socket) -> bool:
        s.settimeout(0.01)
        try:
            return s.recv(1) == b''
        except TimeoutError:
            return False
        except OSError:
            return True
    wait_for(lambda: all(closed(s) for s in socks[-100:]), timeout=15, what='the header timeout')
    for s in socks:
        s.close()


def test_running_out_of_file_descriptors_is_logged_once_and_recovers(server_process):
    from websockets.exceptions import WebSocketException
    srv = server_process(nofile=64)
    tabs = []
    with pytest.raises((WebSocketException, OSError, TimeoutError)):
        for _ in range(80):  # open tabs, each holding a descriptor: more than the process may open
            tabs.append(connect(f'ws://127.0.0.1:{srv.port}{srv.root}_s/', origin=f'http://127.0.0.1:{srv.port}',
                                open_timeout=2).__enter__())
    assert 30 < len(tabs) < 64
    wait_for(lambda: 'cannot accept connections' in srv.stderr(), what='the server to say it ran out')
    cpu0 = srv.cpu()
    time.sleep(1)
    assert srv.cpu() - cpu0 < 0.5  # paused, not spinning on the listening socket
    for tab in tabs:
        tab.close()
    assert srv.get(f'{srv.root}demo', timeout=20) == 200  # accepting again once descriptors are free
    err = srv.stderr()
    assert err.count('cannot accept connections') == 1 and 'Traceback' not in err, err[-2000:]


# --- 6: the secret in saved notebook outputs (tests/test_kernel.py, test_notebooks.py); 7: one large page ------------


def test_a_page_larger_than_the_slow_client_limit_arrives_once(wave, caplog):
    big = 'x' * (17 << 20)

    async def serve(q: Q) -> None:
        q.page['big'] = ui.markdown_card(box='1 1 2 2', title='big', content=big if not q.args.small else 'small')
        await q.page.save()

    wave.listen('/big', serve)
    with connect(f'ws://127.0.0.1:{wave.server.port}{wave.server.root}_s/', max_size=None,
                 origin=f'http://127.0.0.1:{wave.server.port}') as ws:
        json.loads(ws.recv(timeout=15))
        ws.send('+ /big ')
        frame = ws.recv(timeout=30)
        assert len(frame) > 17 << 20 and '"big"' in frame
        ws.send('@ /big {"small": true}')
        assert 'small' in ws.recv(timeout=15)  # the same socket: it was never closed
    assert 'too slow' not in caplog.text


def test_the_frame_fast_path_still_finds_tornados_stream(wave):
    """frames.py reaches into tornado (the socket's stream): this fails loudly if tornado changes it."""
    from tornado.iostream import IOStream

    from wave_jupyter.frames import socket_stream
    wave.listen('/demo', greet)
    sock = joined(wave.server, '/demo')
    (client,) = wave.server.runtime.broker.clients.values()
    handler = client.conn
    assert isinstance(wave.call(socket_stream, handler), IOStream)
    sock.close()
    wait_for(lambda: wave.call(socket_stream, handler) is None, what='no stream once the socket closes')


def test_pending_bytes_reads_tornados_write_buffer():
    """The one private attribute of tornado we use: this fails loudly if tornado renames it."""
    import asyncio

    from tornado.iostream import IOStream

    from wave_jupyter.frames import pending_bytes

    async def check() -> tuple[int, int]:
        a, b = socket.socketpair()
        stream = IOStream(a)
        empty = pending_bytes(stream)
        stream.write(b'z' * (8 << 20))  # more than the socket takes while nobody reads
        full = pending_bytes(stream)
        stream.close()
        b.close()
        return empty, full

    result: list = []
    thread = threading.Thread(target=lambda: result.append(asyncio.run(check())))  # Playwright owns this thread's loop
    thread.start()
    thread.join(30)
    empty, full = result[0]
    assert empty == 0 and 0 < full <= 8 << 20


# --- 8: cross-port uploads; 9: uploaded HTML running in the app's origin ----------------------------------------------


def _upload_folders(wave) -> set[str]:
    return set(os.listdir(wave.server.runtime.uploads.root))


def test_a_page_on_another_port_cannot_upload_even_knowing_the_url(wave, context, attacker):
    app = wave.listen('/demo', greet)
    page = context.new_page()
    greet_in_browser(page, app.url)
    before = _upload_folders(wave)
    for url in [f'http://127.0.0.1:{wave.server.port}/_f/', f'http://127.0.0.1:{wave.server.port}{wave.server.root}_f/']:
        attacker.pages['/csrf.html'] = f'''<script>
            const form = new FormData();
            form.append('files', new Blob(['x'.repeat(1000)]), 'planted.txt');
            window.done = false;
            fetch({json.dumps(url)}, {{method: 'POST', body: form, mode: 'no-cors', credentials: 'include'}})
              .finally(() => {{ window.done = true; }});
            </script>csrf'''
        page.goto(f'{attacker.origin}/csrf.html')
        wait_for(lambda: page.evaluate('window.done'), what='the cross-site POST')
    assert _upload_folders(wave) == before
    status, _, _ = request(wave.server, 'POST', '/_f/', secret=True, body=multipart('files', 'a.txt', b'a')[0],
                               headers={'Content-Type': multipart('files', 'a.txt', b'a')[1],
                                        'Origin': f'http://127.0.0.1:{wave.server.port}',
                                        'Sec-Fetch-Site': 'same-origin'})
    assert status == 200  # the app's own page still uploads


UPLOADER = '''
async def serve(q):
    if q.args.up:
        q.client.up = q.args.up[0]
    q.page['f'] = ui.form_card(box='1 1 3 4', items=[ui.file_upload(name='up', label='Upload'),
                                                     ui.text(f'up={q.client.up}')])
    await q.page.save()
'''


def test_uploaded_html_and_svg_are_downloads_in_a_sandbox(wave, page, tmp_path):
    namespace: dict = {'ui': ui}
    exec(UPLOADER, namespace)
    app = wave.listen('/up', namespace['serve'])
    page.goto(app.url)
    evil = tmp_path / 'evil.html'
    evil.write_text('<script>parent.document.title = "pwned"; document.title = "pwned"</script><p>evil</p>')
    page.set_input_files('input[type=file]', str(evil))
    page.click('button:has-text("Upload")')
    wait_for(lambda: app.last_query and app.last_query.client.up, what='the upload')
    path = app.last_query.client.up
    assert path.startswith('/_f/') and wave.server.secret not in path
    status, headers, _ = request(wave.server, 'GET', path)
    assert status == 200 and headers['Content-Disposition'].startswith('attachment')
    assert 'sandbox' in headers['Content-Security-Policy'] and headers['X-Content-Type-Options'] == 'nosniff'
    with page.expect_download() as download:
        page.evaluate('url => { location.href = url; }', f'http://127.0.0.1:{wave.server.port}{path}')
    assert download.value.suggested_filename == 'evil.html'
    assert page.title() != 'pwned'
    svg = tmp_path / 'evil.svg'
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>')
    (svg_path,) = wave.call(app.site.upload, [str(svg)])  # the app's own files stay inline (as under waved)
    assert 'Content-Disposition' not in request(wave.server, 'GET', svg_path)[1]


# --- 10: open redirect; 11: deep JSON; 12: malformed multipart; 13: bogus announcements; 14: clean-up --------------


@pytest.mark.parametrize('path', ['//evil.example/x?wave_token={s}', '//evil.example/x', '/\\evil.example/x',
                                  '{root}_s', '//{s}/_s'])
def test_no_redirect_leaves_the_server(wave, path):
    path = path.format(s=wave.server.secret, root=wave.server.root)
    status, headers, _ = request(wave.server, 'GET', path)
    location = headers.get('Location', '')
    assert not location.startswith('//') and '://' not in location and '\\' not in location, location
    if location:
        assert location == f'{wave.server.root}_s/'
    else:
        assert status in (400, 403)


def test_deeply_nested_json_is_answered_like_any_bad_frame(wave):
    wave.listen('/demo', greet)
    sock = joined(wave.server, '/demo')
    sock.send('@ /demo ' + '[' * 100_000 + ']' * 100_000)
    assert sock.recv_docs() == [{}]
    sock.send('@ /demo {"who": "Bo", "go": true}')
    sock.recv_until(lambda d: 'Hello, Bo!' in json.dumps(d))


def _bad_uploads() -> list[tuple[str, bytes, str]]:
    ok_part = b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n\r\nhello\r\n'
    many = b''.join(b'--b\r\nContent-Disposition: form-data; name="files"; filename="f%d.txt"\r\n\r\nx\r\n' % i
                    for i in range(1001)) + b'--b--\r\n'
    return [
        ('no boundary', ok_part + b'--b--\r\n', 'multipart/form-data'),
        ('truncated', ok_part, 'multipart/form-data; boundary=b'),
        ('garbage', b'\x00\xff' * 50, 'multipart/form-data; boundary=b'),
        ('too many parts', many, 'multipart/form-data; boundary=b'),
        ('NUL in the name', ok_part.replace(b'a.txt', b'a\x00b.txt') + b'--b--\r\n', 'multipart/form-data; boundary=b'),
        ('300-character name', ok_part.replace(b'a.txt', b'n' * 300) + b'--b--\r\n', 'multipart/form-data; boundary=b'),
        ('not UTF-8', ok_part.replace(b'a.txt', b'\xff\xfe.txt') + b'--b--\r\n', 'multipart/form-data; boundary=b'),
        ('not multipart', b'files=x', 'application/x-www-form-urlencoded'),
    ]


@pytest.mark.parametrize('what,body,ctype', _bad_uploads(), ids=[b[0] for b in _bad_uploads()])
def test_malformed_uploads_get_400_with_a_reason_and_leave_nothing(wave, what, body, ctype):
    before = _upload_folders(wave)
    status, _, reply = request(wave.server, 'POST', '/_f/', secret=True, body=body, headers={'Content-Type': ctype})
    assert status == 400, (what, status, reply)
    assert len(reply) > 20 and b'Traceback' not in reply
    assert _upload_folders(wave) == before
    ok, okctype = multipart('files', 'fine.txt', b'fine')
    assert request(wave.server, 'POST', '/_f/', secret=True, body=ok, headers={'Content-Type': okctype})[0] == 200


def test_only_apps_and_script_pages_are_announced(wave):
    announced: list[str] = []
    wave.server.runtime.events.subscribe(lambda e: announced.append(e.route), events.RouteAdded)

    async def serve(q: Q) -> None:
        q.page['c'] = ui.markdown_card(box='1 1 1 1', title='t', content=str(q.events))
        await q.page.save()
        if q.args.other:
            other = q.site['/other']
            other['c'] = ui.markdown_card(box='1 1 1 1', title='other', content='x')
            await other.save()

    app = wave.listen('/demo', serve)
    sock = joined(wave.server, '/demo')
    sock.send('@ /demo {"other": true}')
    wait_for(lambda: '/other' in announced, what='the script page announced')
    cid = app.tabs[0].id
    sock.close()
    wait_for(lambda: cid not in app.state.clients, what='the client to be forgotten (client_disconnect ran)')
    assert announced == ['/demo', '/other']


def test_temporary_folders_are_removed_and_the_index_cache_is_bounded(tmp_path):
    import subprocess
    import sys

    from conftest import ServerThread
    st = ServerThread()
    folder = st.server.runtime.uploads.root.parent
    assert folder.is_dir()
    for i in range(MAX_INDEX_PAGES * 4):
        request(st.server, 'GET', '/demo', secret=True, headers={'X-Forwarded-Prefix': f'/p{i}'})
    assert len(st.server.index_pages) == MAX_INDEX_PAGES
    st.stop()
    assert not folder.exists()
    out = subprocess.run([sys.executable, '-c', 'from wave_jupyter import Server; s = Server(0); '
                          'print(s.runtime.uploads.root.parent)'], capture_output=True, text=True, check=True).stdout
    assert out.strip() and not os.path.exists(out.strip())  # a process that ends without closing cleans up too


def test_frame_ancestors_holds_only_sources_browsers_accept(wave):
    csp = request(wave.server, 'GET', '/demo', secret=True)[1]['Content-Security-Policy']
    assert '[' not in csp and ']' not in csp


def test_websocket_with_the_secret_but_from_another_port_is_refused(wave, attacker):
    from websockets.exceptions import InvalidStatus
    with pytest.raises(InvalidStatus):
        WaveSocket(wave.server, origin=attacker.origin)


# --- found by a second review of the fix ------------------------------------------------------------------------------


def _upload(wave, name: str, content: bytes, one_folder: bool = False, parts: int = 1) -> tuple[int, bytes]:
    boundary = 'b'
    body = b''.join(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n\r\n'
                    .encode() + content + b'\r\n' for _ in range(parts)) + f'--{boundary}--\r\n'.encode()
    headers = {'Content-Type': f'multipart/form-data; boundary={boundary}'}
    if one_folder:
        headers['Wave-Directory-Upload'] = 'True'
    status, _, reply = request(wave.server, 'POST', '/_f/', secret=True, body=body, headers=headers)
    return status, reply


def test_a_file_key_opens_that_file_only_and_proves_nothing(tmp_path):
    from conftest import ServerThread
    st = ServerThread(max_unproven=16)
    try:
        _, reply = _upload(st, 'evil.html', b'<script>document.title="pwned"</script>')
        (untrusted,) = json.loads(reply)['files']
        mine = tmp_path / 'mine.html'
        mine.write_text('mine')
        (trusted,) = st.call(st.server.runtime.uploads.copy_in, [str(mine)])
        trusted = f'/_f/{trusted}'
        assert 'Content-Disposition' not in request(st.server, 'GET', trusted)[1]  # the app's own: inline
        key = untrusted.split('/')[2]
        sneaky = trusted.rsplit('/', 1)[0] + f'/..%2F{key}/evil.html'
        assert request(st.server, 'GET', sneaky)[0] == 400  # no walking from a trusted key to an untrusted file
        assert request(st.server, 'GET', '/_f/00000000-0000-0000-0000-000000000000/x')[0] == 404
        with socket.create_connection(('127.0.0.1', st.server.port), timeout=10) as s:
            s.sendall(f'GET {untrusted} HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n'.encode())
            assert s.recv(100).startswith(b'HTTP/1.1 413')  # a key's request may carry no body to wait for
        held = []
        for _ in range(40):  # keep-alive connections that only ever fetched a file
            c = http.client.HTTPConnection('127.0.0.1', st.server.port, timeout=10)
            c.request('GET', untrusted)
            assert c.getresponse().read().startswith(b'<script>')
            held.append(c)
        assert st.call(lambda: st.server.listener.unproven) <= 16  # they stay capped
        assert request(st.server, 'GET', '/demo', secret=True)[0] == 200
        for c in held:
            c.close()
    finally:
        st.stop()


def test_logs_never_hold_the_secret_and_failures_of_others_stay_quiet(wave, caplog):
    import logging
    wave.listen('/demo', greet)
    with caplog.at_level(logging.DEBUG):
        request(wave.server, 'GET', '/nope/missing.js', secret=True)
        request(wave.server, 'GET', '/_f/00000000-0000-0000-0000-000000000000/x')
        sock = joined(wave.server, '/demo')
        sock.send(f'? {wave.server.secret} bad frame')
        sock.recv_docs()
        # what tornado logs for a handler that raises: the request, with its path
        logging.getLogger('tornado.application').error('Uncaught exception GET %s', wave.server.url('/demo'))
    assert '<secret>/demo' in caplog.text
    ours = [r for r in caplog.records if r.name.startswith(('tornado', 'wave_jupyter'))]
    assert ours and not [r for r in ours if wave.server.secret in r.getMessage()]
    assert not [r for r in ours if r.name == 'tornado.access' and r.levelno >= logging.WARNING]


def test_one_folder_uploads_refuse_two_files_of_one_name(wave):
    before = _upload_folders(wave)
    status, reply = _upload(wave, 'a.txt', b'x', one_folder=True, parts=2)
    assert status == 400 and b'a.txt' in reply
    assert _upload_folders(wave) == before


@pytest.mark.parametrize('name', ['../x.txt', '/etc/x.txt', 'a/../../x.txt', 'a//x.txt'])
def test_a_folder_upload_keeps_its_tree_but_never_leaves_its_folder(wave, name):
    before = _upload_folders(wave)
    status, reply = _upload(wave, name, b'x', one_folder=True)
    assert status == 400 and b'folder upload' in reply, reply
    assert _upload_folders(wave) == before
    status, reply = _upload(wave, 'web/js/x.js', b'x', one_folder=True)  # what q.site.upload_dir sends
    (url,) = json.loads(reply)['files']
    assert status == 200 and request(wave.server, 'GET', f'{url}/web/js/x.js')[2] == b'x'


def test_head_of_an_app_page_is_answered(wave):
    status, headers, body = request(wave.server, 'HEAD', '/demo', secret=True)
    assert status == 200 and headers['Content-Type'].startswith('text/html') and body == b''


# --- second review, 3: a fixed secret outlived its server ---------------------------------------------------------


def test_what_a_tab_sends_after_its_server_stopped_opens_nothing_later(browser):
    """Another user who takes the port of a stopped server gets the reconnecting tab's requests: they hold only
    that server's own secret, which the next server (same fixed secret, same port) refuses."""
    door = 'a-fixed-secret-kept-across-restarts'
    first = ServerThread(secret=door, reconnect_timeout=0.5)
    port = first.server.port
    bookmark = first.listen('/demo', greet).url
    page = browser.new_page()
    squatter = None
    try:
        greet_in_browser(page, bookmark)
        first.stop()
        squatter = HttpSquatter(port)  # at once, on both loopbacks
        wait_for(lambda: any(b'/_s/' in r for r in squatter.requests), timeout=30, what='the tab to reconnect')
        captured = squatter.requests[0].split(b' ')[1].decode()
        assert door.encode() not in b''.join(squatter.requests)
        squatter.close()
        squatter = None
        restarted = ServerThread(port, secret=door)
        try:
            restarted.listen('/demo', greet)
            with pytest.raises(Exception, match='403'):
                WebSocketAt(port, captured.split('?')[0])
            status, _, _ = request(restarted.server, 'GET', captured.split('_s/')[0] + 'demo')
            assert status == 403
            greet_in_browser(page, bookmark, 'Bo')  # the bookmark opens the new server
        finally:
            restarted.stop()
    finally:
        if squatter is not None:
            squatter.close()
        page.close()


def test_the_door_only_opens_pages_and_writes_nothing_of_the_path_into_script():
    wave = ServerThread(secret='a-fixed-secret-kept-across-restarts')
    try:
        door = '/a-fixed-secret-kept-across-restarts/'
        status, _, body = request(wave.server, 'GET', door + 'x%3C/script%3E%3Cscript%3Ealert(1)%3C/script%3E')
        assert status == 200 and b'alert(1)</script>' not in body and b'<script>alert' not in body
        assert wave.server.root.encode() in body  # it moves the page under the server's own secret
        assert request(wave.server, 'POST', door + '_f/', body=b'x')[0] == 405
        upgrade = {'Upgrade': 'websocket', 'Connection': 'Upgrade'}
        assert request(wave.server, 'GET', door + '_s/', headers=upgrade)[0] == 405
        assert request(wave.server, 'GET', '/a-fixed-secret-kept-across-restartz/demo')[0] == 403
    finally:
        wave.stop()


class HttpSquatter:
    """Listens at both loopbacks of ``port`` and records the first bytes of every connection."""

    def __init__(self, port: int) -> None:
        self.requests: list[bytes] = []
        self.sockets = [squat('127.0.0.1', port), squat('::1', port)]
        for sock in self.sockets:
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            conn.settimeout(2)
            try:
                self.requests.append(conn.recv(4096))
            except OSError:
                pass
            conn.close()

    def close(self) -> None:
        for sock in self.sockets:
            shut(sock)


def WebSocketAt(port: int, path: str) -> Any:
    with connect(f'ws://127.0.0.1:{port}{path}', origin=f'http://127.0.0.1:{port}', open_timeout=5) as ws:
        return ws.recv(timeout=5)


# --- second review, 8: upload URLs were not percent-encoded --------------------------------------------------------


@pytest.mark.parametrize('name', ['%2e%2e%2fx', 'a?b#c d%.txt', 'per%25cent', 'ünï cödé.txt'])
def test_an_uploaded_files_url_opens_that_file_whatever_its_name(wave, name):
    async def keep(q: Q) -> None:
        if q.args.up:
            q.client.got = Path(await q.site.download(q.args.up[0], str(wave.server.runtime.uploads.root.parent))
                                ).read_bytes()
        q.page['x'] = ui.markdown_card(box='1 1 2 2', title='t', content='x')
        await q.page.save()

    app = wave.listen('/up', keep)
    body, ctype = multipart('files', name, b'the content')
    status, _, reply = request(wave.server, 'POST', '/_f/', secret=True, headers={'Content-Type': ctype}, body=body)
    assert status == 200
    (url,) = json.loads(reply)['files']
    assert request(wave.server, 'GET', url) == (200, mock.ANY, b'the content')  # HTTP, as a browser follows the link
    stored = wave.call(lambda: app.runtime.uploads.resolve(url.split('/_f/', 1)[1].split('/')[0]))
    assert [p.name for p in stored.iterdir()] == [name]  # stored under its own name
    sock = WaveSocket(wave.server)
    sock.hello()
    sock.send('+ /up ')
    sock.send(f'@ /up {json.dumps({"up": [url]})}')  # the app gets the URL and reads the file back through q.site
    wait_for(lambda: any(getattr(c, 'got', None) == b'the content' for c in app.state.clients.values()),
             what='the app to read the upload')
    sock.close()


# --- second review, 9: a killed kernel left its uploads behind -----------------------------------------------------


def test_the_folders_of_killed_kernels_are_removed_by_the_next_process():
    from kernel import Kernel

    from wave_jupyter.runtime import Runtime
    start = ("from h2o_wave import ui\nfrom wave_jupyter import listen\n"
             "async def serve(q):\n    pass\n"
             "app = listen('/t', serve)\n"
             "(app.runtime.data_dir / 'f' / 'someones-upload.txt').write_text('private')\n"
             "print(app.runtime.data_dir)")
    killed, alive = Kernel(), Kernel()
    try:
        gone = Path(killed.run(start)['stdout'].strip())
        kept = Path(alive.run(start)['stdout'].strip())
        assert (gone / 'f' / 'someones-upload.txt').is_file()
        killed.kc.stop_channels()
        killed.km.shutdown_kernel(now=True)  # SIGKILL: no atexit, no finalizer
        assert gone.is_dir()  # what the process could not remove
        fresh = Runtime()  # the next process (or runtime) to make its folder sweeps
        try:
            assert not gone.exists()
            assert (kept / 'f' / 'someones-upload.txt').read_text() == 'private'  # a live kernel's folder stays
        finally:
            fresh._scratch.remove()
    finally:
        alive.shutdown()


# --- second review, 10: ``Origin: null`` passed the same-origin check ----------------------------------------------


@pytest.mark.parametrize('method,path', [('POST', '_f/'), ('DELETE', '_f/00000000-0000-4000-8000-000000000000/x')])
def test_an_opaque_origin_may_not_change_the_server(wave, method, path):
    body, ctype = multipart('files', 'x.txt', b'x')
    for headers in ({'Origin': 'null'}, {'Origin': 'null', 'Sec-Fetch-Site': 'cross-site'}):
        post = method == 'POST'
        status, _, reply = request(wave.server, method, path, secret=True, body=body if post else None,
                                   headers={**({'Content-Type': ctype} if post else {}), **headers})
        assert status == 403 and b'another origin' in reply
    assert not any(wave.server.runtime.uploads.root.iterdir())  # nothing was stored
    status, _, _ = request(wave.server, 'POST', '_f/', secret=True, body=body, headers={'Content-Type': ctype})
    assert status == 200  # no Origin at all (a non-browser client that knows the secret) is still fine
