"""Secure by default: loopback only, a per-server secret on every request, the WebSocket Origin checked."""

from __future__ import annotations

import http.client
import json

import pytest
from websockets.exceptions import InvalidStatus
from wsclient import WaveSocket


def request(server, method: str, path: str, cookie: bool = False, headers: dict | None = None,
            body: bytes | None = None):
    conn = http.client.HTTPConnection('127.0.0.1', server.port, timeout=10)
    h = dict(headers or {})
    if cookie:
        h['Cookie'] = f'{server.cookie}={server.secret}'
    conn.request(method, path, body=body, headers=h)
    res = conn.getresponse()
    return res.status, dict(res.getheaders()), res.read()


def multipart(name: str, filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = 'wavejupyterboundary'
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f'Content-Type: application/octet-stream\r\n\r\n').encode() + content + f'\r\n--{boundary}--\r\n'.encode()
    return body, f'multipart/form-data; boundary={boundary}'


def test_listens_on_loopback_only(wave):
    assert wave.server.host == '127.0.0.1'
    sock = wave.server._http._sockets  # what tornado actually bound
    assert {s.getsockname()[0] for s in sock.values()} == {'127.0.0.1'}


@pytest.mark.parametrize('path', ['/demo', '/', '/wave-static/x.js', '/favicon.ico', '/_f/x/y.txt'])
def test_http_without_secret_is_refused(wave, path):
    status, _, body = request(wave.server, 'GET', path)
    assert status == 403
    assert b'secret' in body


def test_wrong_secret_is_refused(wave):
    status, _, _ = request(wave.server, 'GET', '/demo?wave_token=wrong')
    assert status == 403


def test_secret_in_url_becomes_cookie_and_clean_redirect(wave):
    status, headers, _ = request(wave.server, 'GET', f'/demo?a=1&wave_token={wave.server.secret}')
    assert status == 302
    assert headers['Location'] == '/demo?a=1'
    cookie = headers['Set-Cookie']
    assert cookie.startswith(f'{wave.server.cookie}={wave.server.secret}') and 'HttpOnly' in cookie
    status, headers, body = request(wave.server, 'GET', '/demo', cookie=True)
    assert status == 200 and b'data-base-url="/"' in body
    assert headers['X-Content-Type-Options'] == 'nosniff'


def test_assets_are_served_with_the_cookie(wave):
    _, _, html = request(wave.server, 'GET', '/demo', cookie=True)
    js = html.decode().split('src="')[1].split('"')[0]
    status, headers, _ = request(wave.server, 'GET', js, cookie=True)
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
    status, _, reply = request(wave.server, 'POST', '/_f/', cookie=True, headers={'Content-Type': ctype}, body=body)
    assert status == 200
    (path,) = json.loads(reply)['files']
    assert path.startswith('/_f/') and path.endswith('/hello.txt')
    status, _, content = request(wave.server, 'GET', path, cookie=True)
    assert (status, content) == (200, b'hi')
    body, ctype = multipart('files', '../../etc/passwd', b'x')
    status, _, reply = request(wave.server, 'POST', '/_f/', cookie=True, headers={'Content-Type': ctype}, body=body)
    assert status == 200 and json.loads(reply)['files'][0].endswith('/passwd')  # reduced to its name, kept inside
    for bad in ['/_f/../../../etc/passwd', '/_f/%2e%2e/%2e%2e/etc/passwd', '/_f/..%2f..%2fetc/passwd']:
        status, _, _ = request(wave.server, 'GET', bad, cookie=True)
        assert status in (403, 404)


def test_oversize_upload_gets_413_with_a_clear_message(wave):
    wave.server.max_upload_size = 1000
    body, ctype = multipart('files', 'big.bin', b'x' * 5000)
    status, _, reply = request(wave.server, 'POST', '/_f/', cookie=True, headers={'Content-Type': ctype}, body=body)
    assert status == 413
    assert b'limit is 1000 bytes' in reply
    body, ctype = multipart('files', 'small.bin', b'x' * 10)
    status, _, _ = request(wave.server, 'POST', '/_f/', cookie=True, headers={'Content-Type': ctype}, body=body)
    assert status == 200  # the server still takes uploads


def test_upload_without_files_part_is_400(wave):
    body, ctype = multipart('other', 'a.txt', b'x')
    status, _, reply = request(wave.server, 'POST', '/_f/', cookie=True, headers={'Content-Type': ctype}, body=body)
    assert status == 400 and b'files' in reply


def test_bearer_secret_works_for_programs(wave):
    status, _, _ = request(wave.server, 'GET', '/demo', headers={'Authorization': f'Bearer {wave.server.secret}'})
    assert status == 200


def test_cookie_names_differ_per_port(wave):
    from wave_jupyter.security import cookie_name
    assert cookie_name(1) != cookie_name(2)


def test_pages_send_frame_ancestors_that_still_allow_notebooks(wave):
    _, headers, _ = request(wave.server, 'GET', '/demo', cookie=True)
    csp = headers['Content-Security-Policy']
    assert csp.startswith('frame-ancestors ') and "'self'" in csp and 'http://localhost:*' in csp
    assert 'vscode-webview:' in csp and '*.' not in csp and ' * ' not in f' {csp} '
    assert 'X-Frame-Options' not in headers  # it would forbid the notebook's iframe outright
    _, headers, _ = request(wave.server, 'GET', '/demo')  # refusals carry them too
    assert headers['X-Content-Type-Options'] == 'nosniff' and 'frame-ancestors' in headers['Content-Security-Policy']


def test_vscode_webview_origin_is_allowed_by_default(wave):
    assert WaveSocket(wave.server, origin='vscode-webview://1234abcd').hello()


def test_secret_can_be_fixed_for_restarts(monkeypatch):
    from wave_jupyter import Server
    monkeypatch.setenv('WAVE_JUPYTER_SECRET', 'fixed-secret-for-this-test')
    assert Server(0).secret == 'fixed-secret-for-this-test'
    assert Server(0, secret='given').secret == 'given'
