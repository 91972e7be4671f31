"""Fuzzing the server's inputs: malformed, truncated, oversized and wrong-type frames and HTTP requests.

Invariants: the server never raises out of a frame, answers every bad frame (so the UI never stays busy), leaks no
task, and another client keeps getting every update.
"""

from __future__ import annotations

import asyncio
import http.client
import itertools
import json
import string

from conftest import wait_for
from h2o_wave import ui
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wsclient import WaveSocket, joined

from wave_jupyter import Q

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)

frames = st.one_of(
    st.text(max_size=200),                                                      # anything at all
    st.builds(lambda k, p, d: f'{k} {p} {d}', st.sampled_from(['+', '@', '*', '#', '', '@@']),
              st.text(alphabet=string.printable, max_size=30), st.text(max_size=100)),
    st.builds(lambda p, v: f'@ {p} {json.dumps(v)}', st.sampled_from(['/fz', '/fz/', '/nope', '/']), json_values),
    st.builds(lambda v: f'@ /fz {json.dumps(v)}'[:-1], json_values),            # truncated JSON
    st.builds(lambda ops: f'* /fz {json.dumps({"d": ops})}', st.lists(json_values, max_size=5)),
)


async def fragile(q: Q) -> None:
    q.app.n = (q.app.n or 0) + 1
    if not isinstance(q.args.x, (int, type(None))):
        raise TypeError(f'wrong type: {q.args.x!r}')  # a handler that trusts its input
    q.page['c'] = ui.markdown_card(box='1 1 2 2', title='T', content=f'n={q.app.n} x={q.args.x}')
    await q.page.save()


FUZZED = {'broker': 0, 'websocket': 0, 'http': 0}
TOKENS = itertools.count(1000)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=frames)
def test_fuzzed_frames_on_the_broker(wave, frame):
    """Straight into the broker (fast): nothing escapes, and every frame is answered once its handler is done."""
    broker = wave.server.runtime.broker
    if '/fz' not in broker.apps:
        wave.listen('/fz', fragile, 'broadcast')
    app = broker.apps['/fz']
    got: list[str] = []

    class Conn:
        def send(self, text: str) -> None:
            got.append(text)

        def close(self) -> None:
            pass

    async def feed() -> None:
        client = broker.connect(Conn(), None, {})
        broker.receive(client, frame)
        while app.tasks:
            await asyncio.gather(*app.tasks, return_exceptions=True)

    wave.call(feed)
    FUZZED['broker'] += 1
    assert len(got) >= 2, (frame, got)  # the client id, then at least one answer


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(frames, min_size=50, max_size=50))
def test_fuzzed_frames_over_websockets_keep_other_clients_served(wave, batch):
    app = wave.server.apps.get('/fz') or wave.listen('/fz', fragile, 'broadcast')
    watcher = joined(wave.server, '/fz')
    attacker = WaveSocket(wave.server)
    attacker.hello()
    for frame in batch:
        attacker.send(frame)
    FUZZED['websocket'] += len(batch)
    token = next(TOKENS)
    attacker.send(f'@ /fz {{"x":{token}}}')  # after all the garbage, one good frame: its update must reach the watcher
    watcher.recv_until(lambda d: f'x={token}' in json.dumps(d), timeout=30)
    wait_for(lambda: not app.tasks, what='no task left running')
    assert wave.server.running
    watcher.close()
    attacker.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']),
       path=st.text(alphabet=string.ascii_letters + string.digits + '/._-%?&=~', max_size=60),
       body=st.binary(max_size=300), ctype=st.sampled_from(['', 'application/json', 'multipart/form-data',
                                                            'multipart/form-data; boundary=x', 'text/plain']))
def test_fuzzed_http_requests_get_an_answer_never_a_crash(wave, method, path, body, ctype):
    conn = http.client.HTTPConnection('127.0.0.1', wave.server.port, timeout=10)
    headers = {}
    if ctype:
        headers['Content-Type'] = ctype
    conn.request(method, wave.server.root + path.lstrip('/'), body=body, headers=headers)
    res = conn.getresponse()
    res.read()
    assert res.status < 500 or res.status == 501, (method, path, res.status)
    conn.close()
    FUZZED['http'] += 1

