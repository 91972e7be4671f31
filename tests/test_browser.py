"""End to end: the official Wave UI in headless Chromium against the in-process server."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import wait_for
from h2o_wave import data, ui
from support import greet

from wave_jupyter import Q


def test_greet_example_types_clicks_and_shows_hello(wave, page):
    app = wave.listen('/demo', greet)
    page.goto(app.url)
    page.fill('[data-test=who]', 'Ada')
    page.click('[data-test=go]')
    page.wait_for_selector('text=Hello, Ada!')
    assert app.last_query.args.who == 'Ada'
    assert app.last_query.args.go is True
    assert page.url == app.url and not page.context.cookies()  # no redirect, and no cookie for other ports to read
    assert app.page()['out']['content'] == 'Hello, Ada!'


def counter(mode: str):
    async def serve(q: Q) -> None:
        store = {'unicast': q.client, 'multicast': q.user, 'broadcast': q.app}[mode]
        store.count = (store.count or 0) + (1 if q.args.inc else 0)
        q.page['c'] = ui.form_card(box='1 1 2 2', items=[ui.button(name='inc', label=f'Count={store.count}')])
        await q.page.save()
    return serve


def label(page) -> str:
    return page.locator('[data-test=inc]').inner_text()


@pytest.mark.parametrize('mode', ['unicast', 'multicast', 'broadcast'])
def test_modes_share_state_as_waved_does(wave, browser, mode):
    app = wave.listen('/count', counter(mode), mode)
    a_ctx, b_ctx = browser.new_context(), browser.new_context()
    try:
        a, b = a_ctx.new_page(), b_ctx.new_page()
        a.goto(app.url)
        b.goto(app.url)
        wait_for(lambda: label(a) == 'Count=0' and label(b) == 'Count=0', what='both tabs at Count=0')
        a.click('[data-test=inc]')
        wait_for(lambda: label(a) == 'Count=1', what='tab A at Count=1')
        b.click('[data-test=inc]')
        if mode == 'unicast':
            # B has its own counter, and A's is untouched by B's click.
            wait_for(lambda: label(b) == 'Count=1', what='tab B at its own Count=1')
            a.click('[data-test=inc]')
            wait_for(lambda: label(a) == 'Count=2', what='tab A at Count=2')
            assert len(app.state.clients) == 2
        else:
            # One shared counter (every anonymous browser is user "anon"): both tabs see both clicks.
            wait_for(lambda: label(a) == 'Count=2' and label(b) == 'Count=2', what='both tabs at Count=2')
            assert (app.state.users['anon'].count if mode == 'multicast' else app.state.app.count) == 2
    finally:
        a_ctx.close()
        b_ctx.close()


async def fragile(q: Q) -> None:
    if q.args.boom:
        raise RuntimeError('kaboom from the handler')
    q.client.n = (q.client.n or 0) + (1 if q.args.ok else 0)
    q.page['f'] = ui.form_card(box='1 1 2 3', items=[
        ui.button(name='boom', label='Boom'), ui.button(name='ok', label='OK'), ui.text(f'n={q.client.n}')])
    await q.page.save()


def test_handler_exception_shows_error_card_and_server_keeps_serving(wave, browser):
    app = wave.listen('/fragile', fragile)
    ctx = browser.new_context()
    try:
        bad, good = ctx.new_page(), ctx.new_page()
        bad.goto(app.url)
        good.goto(app.url)
        good.wait_for_selector('text=n=0')
        bad.click('[data-test=boom]')
        bad.wait_for_selector('text=RuntimeError: kaboom from the handler')
        assert 'Traceback' in bad.locator('[data-test=__unhandled_error__]').inner_text()
        assert 'kaboom' in app.errors[-1]
        good.click('[data-test=ok]')  # the other tab is unaffected
        good.wait_for_selector('text=n=1')
        bad.reload()  # the failed tab comes back on reload, and its next click works
        bad.click('[data-test=ok]')
        bad.wait_for_selector('text=n=1')
    finally:
        ctx.close()


def test_upload_reaches_the_handler_which_reads_the_file(wave, page, tmp_path):
    seen = {}

    async def serve(q: Q) -> None:
        if q.args.up:
            path = await q.site.download(q.args.up[0], str(tmp_path))
            seen['content'] = Path(path).read_text()
            q.page['out'].content = f'got {seen["content"]}'
        else:
            q.page['f'] = ui.form_card(box='1 1 3 4', items=[ui.file_upload(name='up', label='Upload')])
            q.page['out'] = ui.markdown_card(box='4 1 2 2', title='Out', content='nothing yet')
        await q.page.save()

    app = wave.listen('/up', serve)
    src = tmp_path / 'hello.txt'
    src.write_text('hello from a file')
    page.goto(app.url)
    page.set_input_files('input[type=file]', str(src))
    page.click('button:has-text("Upload")')
    page.wait_for_selector('text=got hello from a file')
    url = app.last_query.args.up[0]
    assert url.startswith('/_f/') and url.endswith('/hello.txt')


def test_reconnect_after_socket_drop_keeps_client_and_page(wave, page):
    app = wave.listen('/count', counter('unicast'))
    page.goto(app.url)
    page.click('[data-test=inc]')
    wait_for(lambda: label(page) == 'Count=1', what='Count=1')
    client = app.tabs[0]
    old = client.conn
    wave.call(old.close)  # the server drops the socket; the UI reconnects with its client id
    wait_for(lambda: client.conn is not None and client.conn is not old, what='the tab to reconnect')
    assert label(page) == 'Count=1'
    page.click('[data-test=inc]')
    wait_for(lambda: label(page) == 'Count=2', what='Count=2 after reconnect (q.client kept)')
    assert [c.id for c in app.tabs] == [client.id]


def test_realtime_loop_with_sleep_updates_the_browser(wave, page):
    async def serve(q: Q) -> None:
        q.page['t'] = ui.markdown_card(box='1 1 2 2', title='Ticks', content='tick 0')
        q.page['p'] = ui.plot_card(box='3 1 3 3', title='Stream', data=data('x y', -5),
                                   plot=ui.plot([ui.mark(type='line', x='=x', y='=y')]))
        await q.page.save()
        for i in range(1, 21):
            await q.sleep(0.02)
            q.page['t'].content = f'tick {i}'
            q.page['p'].data[-1] = [i, i * i]
            await q.page.save()

    app = wave.listen('/rt', serve)
    page.goto(app.url)
    page.wait_for_selector('text=tick 20')
    rows = app.page()['p']['data']
    assert [r[0] if isinstance(r, list) else r['x'] for r in rows][-5:] == [16, 17, 18, 19, 20]


def test_stop_button_reaches_the_app_while_a_long_query_runs(wave, page):
    async def serve(q: Q) -> None:
        if q.args.start:
            q.client.stopped = False
            q.page['out'].content = 'working'
            await q.page.save()
            while not q.client.stopped:
                await q.sleep(0.01)
            q.page['out'].content = 'stopped by the user'
        elif q.args.stop:
            q.client.stopped = True
            return
        else:
            q.page['f'] = ui.form_card(box='1 1 2 2', items=[ui.button(name='start', label='Start'),
                                                              ui.button(name='stop', label='Stop')])
            q.page['out'] = ui.markdown_card(box='3 1 2 2', title='Out', content='idle')
        await q.page.save()

    app = wave.listen('/long', serve)
    page.goto(app.url)
    page.click('[data-test=start]')
    page.wait_for_selector('text=working')
    page.click('[data-test=stop]')
    page.wait_for_selector('text=stopped by the user')
    assert not app.tasks or all(t.done() for t in app.tasks)


def test_script_pages_from_sync_site_and_q_site_reach_browsers(wave, browser):
    from wave_jupyter.site import Site
    site = Site(wave.server)
    ctx = browser.new_context()
    try:
        p1 = ctx.new_page()
        p1.goto(wave.url('/stats'))
        page = site['/stats']
        page['s'] = ui.markdown_card(box='1 1 2 2', title='Stats', content='v1')
        page.save()  # from this (non-loop) thread
        p1.wait_for_selector('text=v1')
        page['s'].content = 'v2'
        page.save()
        p1.wait_for_selector('text=v2')
        late = ctx.new_page()  # a late joiner gets the whole stored page
        late.goto(wave.url('/stats'))
        late.wait_for_selector('text=v2')

        async def serve(q: Q) -> None:
            board = q.site['/board']
            board['b'] = ui.markdown_card(box='1 1 2 2', title='Board', content=f'from {q.client_id}')
            await board.save()
            q.page['x'] = ui.markdown_card(box='1 1 2 2', title='App', content='saved the board')
            await q.page.save()

        app = wave.listen('/writer', serve)
        w = ctx.new_page()
        w.goto(app.url)
        w.wait_for_selector('text=saved the board')
        board = ctx.new_page()
        board.goto(wave.url('/board'))
        board.wait_for_selector(f'text=from {app.tabs[0].id}')
    finally:
        ctx.close()


def test_not_found_page_then_app_starts_and_tab_reloads_into_it(wave, page):
    page.goto(wave.url('/later'))
    wait_for(lambda: wave.server.runtime.broker.subscribers.get('/later'), what='the tab to watch /later')
    wave.listen('/later', counter('unicast'))
    wait_for(lambda: page.locator('[data-test=inc]').count() == 1, what='the app to appear after reload')


def test_disconnect_event_then_client_state_dropped(wave, page):
    events = []

    async def serve(q: Q) -> None:
        if q.events['@system'] and q.events['@system'].client_disconnect:
            events.append(q.client_id)
            q.page['x'].content = 'saved after the tab left'  # must not resurrect the page
            await q.page.save()
            return
        q.client.seen = True
        q.page['x'] = ui.markdown_card(box='1 1 2 2', title='Hi', content='hello')
        await q.page.save()

    app = wave.listen('/bye', serve)
    page.goto(app.url)
    page.wait_for_selector('text=hello')
    cid = app.tabs[0].id
    page.goto('about:blank')
    wait_for(lambda: events == [cid], what='client_disconnect event')
    wait_for(lambda: cid not in app.state.clients, what='q.client dropped')
    assert f'/{cid}' not in wave.server.runtime.broker.pages


def test_busy_overlay_clears_when_handler_saves_nothing(wave, page):
    async def serve(q: Q) -> None:
        if not q.client.ready:
            q.client.ready = True
            q.page['f'] = ui.form_card(box='1 1 2 2', items=[ui.button(name='noop', label='Nothing'),
                                                              ui.button(name='go', label='Go')])
            q.page['out'] = ui.markdown_card(box='3 1 2 2', title='Out', content='-')
            await q.page.save()
        elif q.args.go:
            q.page['out'].content = 'went'
            await q.page.save()

    app = wave.listen('/busy', serve)
    page.goto(app.url)
    page.click('[data-test=noop]')  # the handler saves nothing: an empty frame still clears "busy"
    page.click('[data-test=go]', timeout=3000)  # would time out behind the UI's busy overlay
    page.wait_for_selector('text=went')
    assert app.last_query.args.go


def test_hash_route_reaches_handler(wave, page):
    async def serve(q: Q) -> None:
        q.page['x'] = ui.markdown_card(box='1 1 3 2', title='Hash', content=f'hash={q.args["#"]}')
        await q.page.save()

    app = wave.listen('/h', serve)
    page.goto(app.url)
    page.wait_for_selector('text=hash=None')
    page.evaluate("location.hash = '#menu/spam'")
    page.wait_for_selector('text=hash=menu/spam')
    assert app.last_query.args['#'] == 'menu/spam'


def test_updates_of_one_turn_arrive_as_one_frame_and_the_ui_shows_them_all(wave, page):
    """The outbox writes a socket's documents of one turn of the loop as one frame, joined by newlines (as waved does
    for a client that is behind); the real UI splits it and applies every document."""
    from wsclient import WaveSocket

    async def steps(q: Q) -> None:
        for i in range(1, 6):  # five saves with nothing awaited in between that would let the loop turn
            q.page[f's{i}'] = ui.markdown_card(box=f'{i} 1 1 1', title=f'step {i}', content=f'#{i}')
            await q.page.save()

    app = wave.listen('/steps', steps)
    sock = WaveSocket(wave.server)
    sock.hello()
    sock.send('+ /steps ')  # runs the handler: the five saves
    frames: list[list[dict]] = []
    while sum('d' in doc for docs in frames for doc in docs) < 5:
        frames.append(sock.recv_docs(timeout=10))
    sock.close()
    page.goto(app.url)
    for i in range(1, 6):
        page.wait_for_selector(f'text=step {i}')
    assert len(frames) < 5, 'the saves of one turn were written one frame each'
