"""Faults and overload: nothing lost, nobody silently dropped, the server keeps serving (issue: reliability)."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import time

from conftest import ServerThread, wait_for
from h2o_wave import pack, ui
from wsclient import WaveSocket, joined

from wave_jupyter import Q, events


async def echo(q: Q) -> None:
    q.client.seen = (q.client.seen or []) + [q.args.i]
    q.page['x'] = ui.markdown_card(box='1 1 2 2', title='T', content=f'i={q.args.i}')
    await q.page.save()


def test_every_event_is_handled_once_in_order_per_client(wave):
    app = wave.listen('/e', echo)
    socks = [WaveSocket(wave.server) for _ in range(5)]
    for s in socks:
        s.hello()
        s.send('+ /e ')
    for i in range(200):
        for s in socks:
            s.send(f'@ /e {{"i":{i}}}')
    wait_for(lambda: all(len(e.seen or []) == 201 for e in app.state.clients.values()) and len(app.state.clients) == 5,
             timeout=20, what='1000 events handled')
    for e in app.state.clients.values():
        assert e.seen == [None, *range(200)]  # the boot, then every event exactly once, in order


def test_handler_blocking_the_loop_gets_a_warning_naming_q_run(wave, caplog):
    async def blocking(q: Q) -> None:
        time.sleep(0.7)  # what not to do
        q.page['x'] = ui.markdown_card(box='1 1 2 2', title='T', content='done')
        await q.page.save()

    wave.listen('/b', blocking)
    warnings = []
    wave.server.runtime.events.subscribe(lambda e: warnings.append(e.message), events.LoopBlocked)
    with caplog.at_level(logging.WARNING, logger='wave_jupyter'):
        joined(wave.server, '/b')
        wait_for(lambda: warnings, what='the warning (after the step that sent the page)')
    assert len(warnings) == 1 and 'q.run' in warnings[0] and '/b' in warnings[0]
    assert any('q.run' in r.message for r in caplog.records)


def test_client_dropping_mid_query_loses_nothing_for_others(wave):
    async def slow(q: Q) -> None:
        await q.sleep(0.3)
        q.page['x'] = ui.markdown_card(box='1 1 2 2', title='T', content=f'done {q.args.i}')
        await q.page.save()

    app = wave.listen('/s', slow, 'broadcast')
    a, b = joined(wave.server, '/s'), joined(wave.server, '/s')
    a.send('@ /s {"i":1}')
    a.close()  # gone while its query runs
    assert b.recv_until(lambda d: 'd' in d and 'done 1' in json.dumps(d))
    wait_for(lambda: not app.tasks, what='the query to finish')
    assert not app.errors


def test_clients_dropping_during_a_broadcast_to_many(wave):
    async def serve(q: Q) -> None:
        q.app.n = (q.app.n or 0) + 1
        q.page['x'] = ui.markdown_card(box='1 1 2 2', title='T', content='x' * 2000 + f' n={q.app.n}')
        await q.page.save()

    app = wave.listen('/many', serve, 'broadcast')
    socks = [WaveSocket(wave.server) for _ in range(60)]
    for s in socks:
        s.hello()
        s.send('+ /many ')
    wait_for(lambda: len(app.tabs) == 60, what='60 clients')
    for i, s in enumerate(socks):
        if i % 2:
            s.ws.socket.shutdown(socket.SHUT_RDWR)  # drop abruptly, half of them
    socks[0].send('@ /many {"go":true}')
    survivors = socks[::2]
    for s in survivors:
        s.recv_until(lambda d: 'd' in d and f'n={app.state.app.n}' in json.dumps(d) and app.state.app.n > 60)
    assert not app.errors and wave.server.running


def test_too_slow_client_is_closed_visibly_and_others_keep_receiving(wave):
    wave.server.max_pending = 256 << 10
    async def serve(q: Q) -> None:
        q.page['x'] = ui.markdown_card(box='1 1 2 2', title='T', content='y' * 256_000 + str(q.args.i))
        await q.page.save()

    app = wave.listen('/slow', serve, 'broadcast')
    stuck = WaveSocket(wave.server)
    stuck.ws.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.hello()
    stuck.send('+ /slow ')
    fine = WaveSocket(wave.server)
    fine.hello()
    fine.send('+ /slow ')
    wait_for(lambda: len(app.tabs) == 2, what='both clients')
    for i in range(60):  # the stuck client never reads
        fine.send(f'@ /slow {{"i":{i}}}')
        fine.recv_until(lambda d, i=i: 'd' in d and d['d'][0]['d']['content'].endswith(f'y{i}'))
    wait_for(lambda: any(c.conn is None for c in app.tabs), what='the stuck client to be closed')


def test_packed_form_items_in_shared_pages(wave):
    async def serve(q: Q) -> None:
        q.page['f'] = ui.form_card(box='1 1 2 2', items=pack([ui.text('packed items')]))
        await q.page.save()

    wave.listen('/packed', serve, 'multicast')
    joined(wave.server, '/packed')
    late = WaveSocket(wave.server)  # the shared page (with packed items) is stored and sent whole
    late.hello()
    late.send('+ /packed ')
    doc = late.recv_until(lambda d: 'p' in d)
    assert doc['p']['c']['f']['d']['items'].startswith('data:')


def test_state_checkpoint_survives_a_restart(tmp_path, monkeypatch):
    monkeypatch.setenv('H2O_WAVE_CHECKPOINT_DIR', str(tmp_path / 'ckpt'))

    async def visits(q: Q) -> None:
        q.app.visits = (q.app.visits or 0) + 1
        q.user.mine = (q.user.mine or 0) + 1
        q.client.gone = True
        q.page['x'] = ui.markdown_card(box='1 1 2 2', title='T', content=f'v={q.app.visits}')
        await q.page.save()

    first = ServerThread()
    app = first.listen('/v', visits)
    joined(first.server, '/v')  # one visit
    first.stop()  # shutdown checkpoints q.app and q.user
    second = ServerThread()
    try:
        again = second.listen('/v', visits)
        wait_for(lambda: again.state.app.visits == 1, what='q.app restored')
        assert again.state.users['anon'].mine == 1 and again.state.clients == {}
        assert app is not again
    finally:
        second.stop()


def test_a_fixed_secret_is_a_door_that_opens_the_restarted_server(browser, tmp_path):
    async def serve(q: Q) -> None:
        q.page['x'] = ui.markdown_card(box='1 1 2 2', title='T', content=f'hello {q.client_id[:4]}')
        await q.page.save()

    first = ServerThread(secret='same-secret-both-times')  # e.g. WAVE_JUPYTER_SECRET kept
    port = first.server.port
    app = first.listen('/r', serve)
    bookmark = app.url
    assert bookmark == f'http://127.0.0.1:{port}/same-secret-both-times/r'  # the same after a restart
    page = browser.new_page()
    try:
        page.goto(bookmark)
        page.wait_for_selector('text=hello')
        # The page moved its address under the server's own secret before the UI started: no redirect, no request.
        assert page.url == f'http://127.0.0.1:{port}{first.server.root}r'
        old_root = first.server.root
        first.stop()  # the server goes away; the tab shows "Disconnected" and keeps retrying, on the old secret
        restarted = ServerThread(port, secret='same-secret-both-times')
        try:
            restarted.listen('/r', serve)
            assert restarted.server.root != old_root
            # What the old tab sends is refused by the new server (it would be worthless to anyone who took it).
            assert http_status(port, f'{old_root}_s/') == 403 and http_status(port, f'{old_root}r') == 403
            page.goto(bookmark)  # the bookmark opens the restarted server
            def back() -> bool:
                text = page.inner_text('body')
                return any(f'hello {cid[:4]}' in text for cid in list(restarted.server.runtime.broker.clients))
            wait_for(back, timeout=20, what='the page from the restarted server')
            assert restarted.server.secret in page.url
        finally:
            restarted.stop()
    finally:
        page.close()


def http_status(port: int, path: str, method: str = 'GET', headers: dict | None = None) -> int:
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    conn.request(method, path, headers=headers or {})
    status = conn.getresponse().status
    conn.close()
    return status


def test_many_rapid_reconnects_keep_one_client_and_every_event(wave):
    app = wave.listen('/e', echo)
    first = WaveSocket(wave.server)
    cid = first.hello()
    first.send('+ /e ')
    first.recv_until(lambda d: 'd' in d)
    sock = first
    for i in range(50):
        sock.ws.socket.shutdown(socket.SHUT_RDWR)  # the network drops; the tab comes back at once
        sock = WaveSocket(wave.server, client_id=cid)
        sock.send('+ /e ')
        sock.send(f'@ /e {{"i":{i}}}')
        sock.recv_until(lambda d, i=i: 'd' in d and f'i={i}' in json.dumps(d))
    assert list(wave.server.runtime.broker.clients) == [cid]
    time.sleep(wave.server.runtime.broker.reconnect_timeout * 2)  # past the grace period of every dropped socket
    assert list(wave.server.runtime.broker.clients) == [cid] and app.state.clients[cid].seen == [None, *range(50)]
