"""Replay the browser side of a real waved session (tests/traces) against this server.

The handler answers the k-th query with exactly the ops the real app sent at that step, so the frames this server
sends must equal waved's byte for byte, and the args/events the handler sees must equal what waved forwarded.
"""

from __future__ import annotations

import json

from conftest import trace_rows
from h2o_wave.core import expando_to_dict
from wsclient import WaveSocket, joined

from wave_jupyter import Q

STEPS = ['1-load', '2-type-and-click', '3-click-again-no-typing', '4-hash-change', '5-wave-emit-event',
         '6-file-upload', '7-socket-close-quick-reconnect']


def frames(tab: str) -> list[dict]:
    rows = trace_rows('ws_frames.jsonl')
    return [r for r in rows if r['kind'] == 'frame' and r.get('tab') == tab and r['step'] in STEPS]


def forwarded(client_id: str) -> list[dict]:
    """The ``data`` of each query waved POSTed to the app for this client (boot first)."""
    rows = trace_rows('http_waved_app.jsonl')
    return [json.loads(r['req_body'])['data'] for r in rows
            if r['label'] == 'waved_to_app' and r['uri'] == '/' and r['req_headers'].get('Wave-Client-Id') == client_id]


def test_unicast_session_frames_match_waved_byte_for_byte(wave):
    tab = frames('tab1')
    traced_id = json.loads(next(f['payload'] for f in tab if f['payload'].startswith('{"i"')))['i']
    replies = [f['payload'] for f in tab if f['dir'] == 'server->client' and f['payload'].startswith('{"d"')]
    seen: list[dict] = []

    async def replay(q: Q) -> None:
        args = expando_to_dict(q.args)
        events = {k: expando_to_dict(v) for k, v in expando_to_dict(q.events).items()}
        seen.append({**args, **({'': events} if events else {})})
        for op in json.loads(replies[len(seen) - 1])['d']:
            q.page._track(op)  # the SDK's own op record, so save() marshals as the SDK does
        await q.page.save()

    wave.listen('/demo', replay)
    sock = WaveSocket(wave.server)
    ours = None
    got: list[str] = []
    for f in tab:
        if f['dir'] != 'client->server':
            continue
        if f['step'] == '7-socket-close-quick-reconnect' and f['payload'].startswith('+'):
            sock.close()
            sock = WaveSocket(wave.server, client_id=ours)
        sock.send(f['payload'])
        if ours is None:
            ours = sock.hello()
            assert ours != traced_id
        if f['payload'].startswith('@') or not got:
            got.append(sock.ws.recv(timeout=5))
        else:
            resent = json.loads(sock.ws.recv(timeout=5))  # we resend the page on reconnect (waved sends nothing)
            assert set(resent) == {'p'}
    assert got == replies
    assert seen == forwarded(traced_id)[:len(seen)]


def test_broadcast_session_sends_clear_then_ops_to_every_tab(wave):
    rows = trace_rows('ws_frames.jsonl')
    step = [r for r in rows if r['kind'] == 'frame' and r['step'] == '13-broadcast-app']
    cards = next(json.loads(r['payload'])['d'] for r in step if r['payload'].startswith('{"d"'))

    async def serve(q: Q) -> None:
        q.app.n = (q.app.n or 0) + (1 if q.args.inc else 0)
        for op in cards:
            q.page._track(op)
        q.page['out'].content = f'n={q.app.n}'
        await q.page.save()

    wave.listen('/bcast', serve, 'broadcast')
    a = joined(wave.server, '/bcast')
    b = WaveSocket(wave.server)
    b.hello()
    b.send('+ /bcast ')
    assert 'p' in b.recv_docs()[0]  # a late joiner gets the shared page at once (waved sends nothing)
    b.recv_until(lambda d: 'd' in d)  # then its boot query's ops, which also reach the first tab
    a.recv_until(lambda d: 'd' in d)
    a.send('@ /bcast {"inc":true,"__wave_submission_name__":"inc"}')
    for s in (a, b):
        docs = s.recv_docs()
        while not any('d' in d for d in docs):
            docs += s.recv_docs()
        # waved's order: clear first, then the app's ops (here in one frame, as waved's writer batches them)
        assert docs[0] == {'c': 1} and 'd' in docs[1]
        assert docs[1]['d'][-1] == {'k': 'out content', 'v': 'n=1'}
