"""Secure by default: loopback only, a per-server secret on every request, the WebSocket Origin checked."""

from __future__ import annotations

import errno
import json
import socket

import pytest
from hostile import squat
from support import multipart, request
from websockets.exceptions import InvalidStatus
from wsclient import WaveSocket


def test_listens_on_loopback_only(wave):
    assert wave.server.host == '127.0.0.1'
    sockets = wave.server.listener.sockets  # what was actually bound: both loopbacks, one port
    assert {(s.getsockname()[0], s.getsockname()[1]) for s in sockets} == {
        ('127.0.0.1', wave.server.port), ('::1', wave.server.port)}


@pytest.mark.parametrize('host', ['::1', '127.0.0.1'])
def test_no_one_else_can_stand_at_either_loopback_of_the_port(wave, host):
    with pytest.raises(OSError) as taken:
        squat(host, wave.server.port).close()
    assert taken.value.errno == errno.EADDRINUSE


def test_a_chosen_port_whose_ipv6_twin_is_taken_is_refused():
    from wave_jupyter import Server
    squatter = squat('::1', 0)
    port = squatter.getsockname()[1]
    try:
        with pytest.raises(OSError, match=rf'\[::1\]:{port} is held by another process'):
            Server(port).start()
        squat('127.0.0.1', port).close()  # and nothing was left bound on 127.0.0.1
    finally:
        squatter.close()


def test_a_free_port_whose_twin_is_taken_in_the_moment_between_binds_is_given_up(monkeypatch):
    """Another user who watches /proc/net/tcp binds [::1]:P right after we bind 127.0.0.1:P: another port is tried."""
    from wave_jupyter import listener
    real = listener.bind_sockets
    squatters: list[socket.socket] = []

    def racing(port: int, host: str) -> list[socket.socket]:
        sockets = real(port, host)
        if host == '127.0.0.1' and not squatters:
            squatters.append(squat('::1', sockets[0].getsockname()[1]))  # the attacker wins the race, once
        return sockets

    monkeypatch.setattr(listener, 'bind_sockets', racing)
    sockets = listener.bind_loopbacks(0)
    try:
        taken = squatters[0].getsockname()[1]
        got = {s.getsockname()[:2] for s in sockets}
        port = sockets[0].getsockname()[1]
        assert port != taken and got == {('127.0.0.1', port), ('::1', port)}
    finally:
        for s in sockets + squatters:
            s.close()


@pytest.mark.parametrize('path', ['/demo', '/', '/wave-static/x.js', '/favicon.ico', '/_f/x/y.txt', '/_s/'])
def test_http_without_secret_is_refused(wave, path):
    status, _, body = request(wave.server, 'GET', path)
    assert status == 403
    assert b'secret' in body


def test_wrong_secret_is_refused(wave):
    assert request(wave.server, 'GET', '/wrong-secret-0123456789/demo')[0] == 403
    assert request(wave.server, 'GET', f'/{wave.server.secret[:-1]}/demo')[0] == 403
    assert request(wave.server, 'GET', f'/demo?wave_token={wave.server.secret}')[0] == 403  # no second way in


def test_secret_in_path_serves_the_page_with_no_cookie(wave):
    status, headers, body = request(wave.server, 'GET', '/demo?a=1', secret=True)
    assert status == 200 and f'data-base-url="{wave.server.root}"'.encode() in body
    assert 'Set-Cookie' not in headers
    assert headers['X-Content-Type-Options'] == 'nosniff' and headers['Referrer-Policy'] == 'no-referrer'
    assert wave.server.url('/demo') == f'http://127.0.0.1:{wave.server.port}/{wave.server.secret}/demo'


def test_assets_are_served_under_the_secret_root(wave):
    _, _, html = request(wave.server, 'GET', '/demo', secret=True)
    js = html.decode().split('src="')[1].split('"')[0]
    assert js.startswith(wave.server.root)
    status, headers, _ = request(wave.server, 'GET', js)
    assert status == 200 and 'javascript' in headers['Content-Type']


def test_websocket_without_secret_is_refused(wave):
    with pytest.raises(InvalidStatus) as e:
        WaveSocket(wave.server, secret=None)
    assert e.value.response.status_code == 403
    with pytest.raises(InvalidStatus):
        WaveSocket(wave.server, secret='guess')


def test_websocket_from_foreign_origin_is_refused(wave):
    with pytest.raises(InvalidStatus) as e:
        WaveSocket(wave.server, origin='http://evil.example')
    assert e.value.response.status_code == 403
    assert WaveSocket(wave.server).hello()  # same origin is fine


def test_allowed_origins_are_configurable(wave):
    wave.server.allowed_origins.append('http://localhost:8888')
    assert WaveSocket(wave.server, origin='http://localhost:8888').hello()
    with pytest.raises(InvalidStatus):
        WaveSocket(wave.server, origin='http://localhost:9999')


def test_upload_needs_secret_and_rejects_traversal(wave):
    body, ctype = multipart('files', 'hello.txt', b'hi')
    status, _, _ = request(wave.server, 'POST', '/_f/', headers={'Content-Type': ctype}, body=body)
    assert status == 403
    status, _, reply = request(wave.server, 'POST', '/_f/', secret=True, headers={'Content-Type': ctype}, body=body)
    assert status == 200
    (path,) = json.loads(reply)['files']
    assert path.startswith('/_f/') and path.endswith('/hello.txt')  # outside the root: no secret in the app's args
    status, _, content = request(wave.server, 'GET', path)  # its random folder is the key
    assert (status, content) == (200, b'hi')
    assert request(wave.server, 'GET', path, secret=True)[2] == b'hi'  # and under the root
    body, ctype = multipart('files', '../../etc/passwd', b'x')
    status, _, reply = request(wave.server, 'POST', '/_f/', secret=True, headers={'Content-Type': ctype}, body=body)
    assert status == 200 and json.loads(reply)['files'][0].endswith('/passwd')  # reduced to its name, kept inside
    for bad in ['/_f/../../../etc/passwd', '/_f/%2e%2e/%2e%2e/etc/passwd', '/_f/..%2f..%2fetc/passwd']:
        assert request(wave.server, 'GET', bad, secret=True)[0] in (400, 403, 404)
        assert request(wave.server, 'GET', bad)[0] in (400, 403, 404)
    assert request(wave.server, 'GET', '/_f/not-a-key/hello.txt')[0] == 403


def test_oversize_upload_gets_413_with_a_clear_message(wave):
    wave.server.max_upload_size = 1000
    body, ctype = multipart('files', 'big.bin', b'x' * 5000)
    status, _, reply = request(wave.server, 'POST', '/_f/', secret=True, headers={'Content-Type': ctype}, body=body)
    assert status == 413
    assert b'limit is 1000 bytes' in reply
    body, ctype = multipart('files', 'small.bin', b'x' * 10)
    status, _, _ = request(wave.server, 'POST', '/_f/', secret=True, headers={'Content-Type': ctype}, body=body)
    assert status == 200  # the server still takes uploads


def test_upload_without_files_part_is_400(wave):
    body, ctype = multipart('other', 'a.txt', b'x')
    status, _, reply = request(wave.server, 'POST', '/_f/', secret=True, headers={'Content-Type': ctype}, body=body)
    assert status == 400 and b'files' in reply


def test_pages_send_frame_ancestors_that_still_allow_notebooks(wave):
    _, headers, _ = request(wave.server, 'GET', '/demo', secret=True)
    csp = headers['Content-Security-Policy']
    assert csp.startswith('frame-ancestors ') and "'self'" in csp and 'http://localhost:*' in csp
    assert 'vscode-webview:' in csp and '*.' not in csp and ' * ' not in f' {csp} '
    assert 'X-Frame-Options' not in headers  # it would forbid the notebook's iframe outright
    _, headers, _ = request(wave.server, 'GET', '/demo')  # refusals say nosniff too
    assert headers['X-Content-Type-Options'] == 'nosniff'


def test_vscode_webview_origin_is_allowed_by_default(wave):
    assert WaveSocket(wave.server, origin='vscode-webview://1234abcd').hello()


def test_a_fixed_secret_is_a_door_not_the_servers_secret(monkeypatch):
    from wave_jupyter import Server
    monkeypatch.setenv('WAVE_JUPYTER_SECRET', 'fixed-secret-for-this-test')
    fixed = Server(0)
    assert fixed.door == 'fixed-secret-for-this-test' and fixed.secret != fixed.door
    assert Server(0).secret != fixed.secret  # every server has its own
    assert Server(0, secret='given-secret-of-this-test').door == 'given-secret-of-this-test'
    for bad in ['short', 'has/a/slash-in-it-0123', 'has space in it 0123456']:
        with pytest.raises(ValueError, match='secret'):
            Server(0, secret=bad)
