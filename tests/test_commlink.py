"""The kernel's end of the comm rung (``CommLink``): what it answers, and when, in a real kernel and in-process."""

from __future__ import annotations

import json
import queue
import time

import pytest
from conftest import wait_for
from h2o_wave import ui
from kernel import Kernel
from support import multipart
from wsclient import Tab

from wave_jupyter import Q
from wave_jupyter.commlink import CommLink


async def hello(q: Q) -> None:
    q.client.n = (q.client.n or 0) + (1 if q.args.go else 0)
    q.page['x'] = ui.markdown_card(box='1 1 2 2', title='T', content=f'n={q.client.n}')
    await q.page.save()


class Browser:
    """What a view sends and gets, in-process."""

    def __init__(self, wave, route: str = '/demo', **options) -> None:
        self.wave = wave
        self.got: list[tuple[dict, list[bytes]]] = []
        self.link = wave.call(lambda: CommLink(wave.server.runtime, route, lambda m, b: self.got.append((m, b)),
                                               max_upload_size=1000, **options))

    def send(self, message: dict, buffers: list[bytes] | None = None) -> None:
        self.wave.call(self.link.receive, message, buffers or [])

    def wait(self, predicate) -> tuple[dict, list[bytes]]:
        return wait_for(lambda: next((g for g in self.got if predicate(g[0])), None), what='a message from the link')


def test_boot_assets_socket_and_files(wave, tmp_path):
    app = wave.listen('/demo', hello)
    b = Browser(wave)
    b.send({'t': 'boot'})
    ui_message, _ = b.wait(lambda m: m['t'] == 'ui')
    assert 'wave-static' in ui_message['index'] and len(ui_message['names']) > 100
    entry = next(n for n in ui_message['names'] if n.startswith('index-') and n.endswith('.js'))
    b.send({'t': 'assets', 'names': [entry, '../index.html', '/etc/passwd', 'nope.js']})
    assets, buffers = b.wait(lambda m: m['t'] == 'assets' and m.get('last'))
    assert assets['names'] == [entry] and len(buffers[0]) > 1000  # nothing outside wave-static, nothing made up
    b.send({'t': 'open', 'sid': 's1', 'client': None})
    b.send({'t': 'frame', 'sid': 's1', 'data': '+ srcdoc '})  # the sandboxed frame's location: this view's route
    b.wait(lambda m: m['t'] == 'frame' and 'n=0' in m['data'])
    b.send({'t': 'frame', 'sid': 's1', 'data': '@ srcdoc {"go":true}'})
    b.wait(lambda m: m['t'] == 'frame' and 'n=1' in m['data'])
    assert app.last_query.args.go is True and app.tabs[0].headers['X-Wave-Transport'] == ['comm']
    body, ctype = multipart('files', 'a.txt', b'hello')
    b.send({'t': 'http', 'id': 1, 'method': 'POST', 'path': 'srcdoc_f/', 'headers': {'Content-Type': ctype}}, [body])
    reply, data = b.wait(lambda m: m['t'] == 'http' and m['id'] == 1)
    (path,) = json.loads(data[0])['files']
    assert reply['status'] == 200 and path.startswith('/_f/')
    b.send({'t': 'http', 'id': 2, 'method': 'GET', 'path': path, 'headers': {}})
    reply, data = b.wait(lambda m: m['t'] == 'http' and m['id'] == 2)
    assert (reply['status'], data[0], reply['attachment']) == (200, b'hello', True)  # a browser's file: attachment
    body, ctype = multipart('files', 'big.bin', b'x' * 5000)
    b.send({'t': 'http', 'id': 3, 'method': 'POST', 'path': '_f/', 'headers': {'Content-Type': ctype}}, [body])
    reply, data = b.wait(lambda m: m['t'] == 'http' and m['id'] == 3)
    assert reply['status'] == 413 and b'limit is 1000 bytes' in data[0]
    b.send({'t': 'http', 'id': 4, 'method': 'GET', 'path': '_f/../../etc/passwd', 'headers': {}})
    assert b.wait(lambda m: m['t'] == 'http' and m['id'] == 4)[0]['status'] == 404
    b.send({'t': 'nonsense'})
    b.send({'t': 'frame', 'sid': 'unknown', 'data': '@ srcdoc {}'})
    b.send({'t': 'close', 'sid': 's1'})
    wait_for(lambda: not app.tabs, what='the closed socket forgotten after the reconnect timeout')


def test_a_reset_reloads_the_view_instead_of_the_frame(wave):
    wave.listen('/demo', hello)
    b = Browser(wave)
    b.send({'t': 'open', 'sid': 's1', 'client': None})
    b.send({'t': 'frame', 'sid': 's1', 'data': '+ srcdoc '})
    b.wait(lambda m: m['t'] == 'frame' and 'n=0' in m['data'])
    wave.call(wave.server.runtime.broker.reset_route, '/demo')
    b.wait(lambda m: m['t'] == 'reload')
    assert not [m for m, _ in b.got if m['t'] == 'frame' and m['data'] == '{"r":1}']


def test_a_silent_view_loses_its_sockets_but_not_while_the_loop_is_held_up(wave):
    app = wave.listen('/demo', hello)
    b = Browser(wave, silence=0.9)
    b.send({'t': 'open', 'sid': 's1', 'client': None})
    b.send({'t': 'frame', 'sid': 's1', 'data': '+ srcdoc '})
    b.wait(lambda m: m['t'] == 'frame' and 'n=0' in m['data'])
    end = time.monotonic() + 2.5
    while time.monotonic() < end:  # a live view beats: its socket stays
        b.send({'t': 'beat'})
        time.sleep(0.2)
    # A cell holds the loop for longer than the silence allows: the view's beats would wait in the shell channel.
    wave.call(time.sleep, 2.0)
    time.sleep(0.2)
    assert 's1' in b.link.sockets and not [m for m, _ in b.got if m['t'] == 'close']
    # Then silence: the socket is closed (the view is told, in case it is still there) and the tab leaves.
    b.wait(lambda m: m['t'] == 'close' and m['sid'] == 's1')
    assert not b.link.sockets
    wait_for(lambda: not app.tabs, what="the silent view's tab gone after the reconnect timeout")


@pytest.fixture(scope='module')
def kernel():
    k = Kernel()
    yield k
    k.shutdown()


SERVE = '''import threading, time
from h2o_wave import ui
from wave_jupyter import Q, apps, listen, server_of
from wave_jupyter.jupyter.display import view
handled, on_main = {}, {}

async def serve(q: Q):
    if q.args.who:
        handled[q.args.who] = time.time()
        on_main[q.args.who] = threading.current_thread() is threading.main_thread()
    q.page['x'] = ui.markdown_card(box='1 1 2 2', title='T', content=f'who={q.args.who}')
    await q.page.save()

listen('/demo', serve)
v = view(apps['/demo'])
'''


def _run_while_clicking(kernel, code: str) -> tuple[float, float, float]:
    """Run ``code`` as a cell; while it runs, click over the comm and over a socket. Returns when each click was
    handled and when the cell ended."""
    comm_id = kernel.eval('v.comm.comm_id')
    port, secret = kernel.eval("(server_of(apps['/demo']).port, server_of(apps['/demo']).secret)")
    kernel.run('handled.clear()')
    kc = kernel.kc

    def to_view(content: dict) -> None:
        kc.session.send(kc.shell_channel.socket, 'comm_msg',
                        {'comm_id': comm_id, 'data': {'method': 'custom', 'content': content}})

    to_view({'t': 'open', 'sid': 'c1', 'client': None})
    to_view({'t': 'frame', 'sid': 'c1', 'data': '+ srcdoc '})
    tab = Tab('/demo', port=port, root=f'/{secret}/')
    tab.recv_text('who=None')
    cell = kc.execute(code + '\ncell_end = time.time()')
    deadline = time.monotonic() + 10
    while True:  # until the cell is running
        msg = kc.get_iopub_msg(timeout=10)
        if msg['parent_header'].get('msg_id') == cell and msg['msg_type'] == 'execute_input':
            break
        assert time.monotonic() < deadline
    to_view({'t': 'frame', 'sid': 'c1', 'data': '@ srcdoc {"who":"comm"}'})
    tab.click(who='socket')
    while True:
        try:
            msg = kc.get_shell_msg(timeout=15)
        except queue.Empty:
            raise AssertionError('the cell did not finish') from None
        if msg['parent_header'].get('msg_id') == cell:
            break
    wait_for(lambda: kernel.eval("len(handled) == 2"), what='both clicks handled')
    tab.close()
    to_view({'t': 'close', 'sid': 'c1'})
    return kernel.eval("handled['socket'], handled['comm'], cell_end")


def test_when_events_are_handled_while_a_cell_runs_on_either_rung(kernel):
    """The README's promise, for both rungs: a blocking cell holds every event until it ends; an awaiting cell lets
    them through between its awaits (ipykernel 7 handles comm messages meanwhile too; 6.x queues them)."""
    import ipykernel
    kernel.run(SERVE)
    socket_at, comm_at, cell_end = _run_while_clicking(kernel, 'import time\ntime.sleep(2)')
    assert cell_end <= socket_at and cell_end <= comm_at  # blocked: both after the cell
    socket_at, comm_at, cell_end = _run_while_clicking(kernel, 'import asyncio, time\nawait asyncio.sleep(2)')
    assert socket_at < cell_end  # the socket is served between the awaits
    if int(ipykernel.__version__.split('.')[0]) >= 7:
        assert comm_at < cell_end  # and so is the comm, on ipykernel 7
    else:
        assert cell_end <= comm_at
    kernel.run("apps['/demo'].stop()")


def test_comm_messages_on_a_subshell_thread_reach_the_app_on_the_kernels_loop(kernel):
    """JupyterLab 4.6 sends widget messages over subshells (ipykernel 7: a thread each); the app still runs on the
    kernel's main loop, like every other app and transport."""
    import ipykernel
    if int(ipykernel.__version__.split('.')[0]) < 7:
        pytest.skip('subshells arrived in ipykernel 7')
    kernel.run(SERVE + "\nhandled.clear()")
    kc = kernel.kc
    kc.control_channel.send(kc.session.msg('create_subshell_request', {}))
    while (reply := kc.get_control_msg(timeout=10))['msg_type'] != 'create_subshell_reply':
        pass
    subshell = reply['content']['subshell_id']
    comm_id = kernel.eval('v.comm.comm_id')

    def to_view(content: dict) -> None:
        msg = kc.session.msg('comm_msg', {'comm_id': comm_id, 'data': {'method': 'custom', 'content': content}})
        msg['header']['subshell_id'] = subshell
        kc.session.send(kc.shell_channel.socket, msg)

    to_view({'t': 'open', 'sid': 's1', 'client': None})
    to_view({'t': 'frame', 'sid': 's1', 'data': '+ srcdoc '})
    to_view({'t': 'frame', 'sid': 's1', 'data': '@ srcdoc {"who":"sub"}'})
    wait_for(lambda: kernel.eval("'sub' in handled"), what='the click over the subshell handled')
    assert kernel.eval("on_main['sub']") is True
    to_view({'t': 'close', 'sid': 's1'})
    kernel.run("apps['/demo'].stop()")


def test_opening_one_socket_again_and_again_leaves_one_client(tmp_path):
    """20,000 ``open`` messages with one socket id left 20,000 broker clients that never expired."""
    from conftest import ServerThread
    wave = ServerThread(reconnect_timeout=0.3)
    try:
        wave.listen('/demo', hello)
        b = Browser(wave)
        for _ in range(2000):
            b.send({'t': 'open', 'sid': 'same', 'client': None})
        assert list(b.link.sockets) == ['same']
        wait_for(lambda: len(wave.server.runtime.broker.clients) == 1, what='the replaced sockets\' clients to expire')
        for i in range(100):
            b.send({'t': 'open', 'sid': f's{i}', 'client': None})
        assert len(b.link.sockets) == 8  # the cap: the oldest are closed (and told so)
        closed = {m['sid'] for m, _ in b.got if m['t'] == 'close'}
        assert closed == {'same', *(f's{i}' for i in range(92))}
        wait_for(lambda: len(wave.server.runtime.broker.clients) == 8, what='the closed sockets\' clients to expire')
    finally:
        wave.stop()
