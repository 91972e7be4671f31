"""wave_jupyter inside a real ipykernel: the app serves on the kernel's loop between cells, and cells inspect it."""

from __future__ import annotations

import json
import socket
import textwrap

import pytest
from conftest import wait_for
from kernel import Kernel
from wsclient import Tab

SERVE = '''
from h2o_wave import ui
from wave_jupyter import Q, apps, listen, server_of

async def serve(q: Q):
    q.client.n = (q.client.n or 0) + 1
    if q.args.boom:
        raise RuntimeError('kaboom in the handler')
    if q.args.say:
        print('handler says', q.args.say)
    q.page['x'] = ui.markdown_card(box='1 1 2 2', title='T', content=f'n={q.client.n} v1')
    await q.page.save()
'''


@pytest.fixture(scope='module')
def kernel():
    k = Kernel()
    yield k
    k.shutdown()


@pytest.fixture
def demo(kernel):
    kernel.run(SERVE)
    out = kernel.run("listen('/demo', serve)")
    port, secret = kernel.eval("(server_of(apps['/demo']).port, server_of(apps['/demo']).secret)")
    yield {'out': out, 'port': port, 'secret': secret}
    kernel.run("from wave_jupyter import apps\nfor a in list(apps.values()): a.stop()")


def tab_of(demo: dict, route: str = '/demo') -> Tab:
    return Tab(route, port=demo['port'], root=f"/{demo['secret']}/")


def test_listen_displays_a_live_view_with_a_static_fallback(demo):
    (bundle,) = [d for d in demo['out']['data'] if 'application/vnd.jupyter.widget-view+json' in d]
    assert '/demo' in bundle['text/html'] and bundle['text/plain'].startswith('<App /demo unicast')
    assert demo['secret'] not in json.dumps(demo['out'])  # nothing of the cell's saved output holds the secret


def test_events_between_cells_reach_the_handler_and_the_next_cell_reads_them(kernel, demo):
    tab = tab_of(demo)
    tab.recv_text('n=1')
    tab.click(go=True, who='Ada', __wave_submission_name__='go')
    tab.recv_text('n=2')
    assert kernel.eval("apps['/demo'].last_query.args.who") == 'Ada'
    assert kernel.eval(f"apps['/demo'].state.clients['{tab.id}'].n") == 2
    assert kernel.eval("[r.args.get('go') for r in apps['/demo'].history]") == [None, True]
    assert kernel.eval("apps['/demo'].page()['x']['content']") == 'n=2 v1'


def test_a_cell_changes_the_live_page_and_state(kernel, demo):
    tab = tab_of(demo)
    tab.recv_text('n=1')
    kernel.run("q = apps['/demo'].last_query\nq.page['x'].content = 'changed from a cell'\nawait q.page.save()")
    tab.recv_text('changed from a cell')
    kernel.run(f"apps['/demo'].state.clients['{tab.id}'].n = 40\nawait apps['/demo'].refresh()")
    tab.recv_text('n=41 v1')


def test_events_sent_while_a_cell_runs_are_handled_in_order_afterwards(kernel, demo):
    tab = tab_of(demo)
    tab.recv_text('n=1')
    msg_id = kernel.kc.execute('import time; time.sleep(1.5)')
    for i in range(3):
        tab.click(i=i)
    tab.recv_text('n=4', timeout=15)  # all three, after the cell released the loop
    kernel.kc.get_shell_msg(timeout=15)
    assert msg_id
    assert kernel.eval("[r.args.get('i') for r in apps['/demo'].history][-3:]") == [0, 1, 2]


def test_rerunning_the_handler_cell_hot_swaps_on_the_same_socket_and_keeps_state(kernel, demo):
    tab = tab_of(demo)
    tab.recv_text('n=1')
    kernel.run(SERVE.replace("v1'", "v2'"))  # re-run the cell that defines serve
    tab.recv_text('n=2 v2')  # the open tab re-ran the new handler with its q.client kept
    kernel.run("listen('/demo', serve)")  # re-running the listen cell too
    server = "server_of(apps['/demo'])"
    assert kernel.eval(f"len({server}.listener.sockets), {server}.port") == (2, demo['port'])  # both loopbacks
    assert kernel.eval('len(apps)') == 1


def test_handler_error_goes_to_the_starting_cell_and_prints_to_the_log(kernel, demo):
    tab = tab_of(demo)
    tab.recv_text('n=1')
    tab.click(say='hi there')
    tab.recv_text('n=2')
    tab.click(boom=True)
    tab.recv_text('kaboom in the handler')  # Wave's error card in the app
    wait_for(lambda: kernel.eval(
        "any('kaboom' in o.get('text', '') for o in __import__('wave_jupyter.jupyter.session', fromlist=['x'])"
        ".session().consoles['/demo'].widget.outputs)"), what='the traceback in the console of the starting cell')
    logs = kernel.run('%wave logs /demo')['stdout']
    assert 'handler says hi there' in logs


def test_interrupting_a_cell_leaves_the_app_serving(kernel, demo):
    tab = tab_of(demo)
    tab.recv_text('n=1')
    msg_id = kernel.kc.execute('import time; print("sleeping", flush=True); time.sleep(60)')
    while True:  # interrupt once the cell is really running
        msg = kernel.kc.get_iopub_msg(timeout=20)
        if msg['parent_header'].get('msg_id') == msg_id and msg['msg_type'] == 'stream':
            break
    kernel.km.interrupt_kernel()
    reply = kernel.kc.get_shell_msg(timeout=20)
    assert reply['content']['status'] == 'error' and reply['content']['ename'] == 'KeyboardInterrupt'
    tab.click(go=True)
    tab.recv_text('n=2')


def test_magics(kernel):
    kernel.run(SERVE)
    out = kernel.run('%load_ext wave_jupyter\n%wave listen /m --mode broadcast --height 300')
    assert any('application/vnd.jupyter.widget-view+json' in d for d in out['data'])
    assert kernel.eval("(apps['/m'].mode, apps['/m'].height)") == ('broadcast', 300)
    status = kernel.run('%wave status')['data'][0]['text/html']
    assert '/m' in status and 'broadcast' in status
    secret = kernel.eval("server_of(apps['/m']).secret")
    assert secret not in status and secret not in json.dumps(kernel.run("apps['/m']"))
    cell = kernel.run(textwrap.dedent('''\
        %%wave /cell
        q.page['c'] = ui.markdown_card(box='1 1 2 2', title='Cell', content='from the cell body')
        await q.page.save()'''))
    assert any('application/vnd.jupyter.widget-view+json' in d for d in cell['data'])
    assert kernel.eval("apps['/cell'].handler.__name__") == '_wave_cell_cell'
    shown = kernel.run('%wave show /m --height 200')['data'][0]
    assert 'application/vnd.jupyter.widget-view+json' in shown
    kernel.run("import asyncio; await asyncio.sleep(0); apps['/m'].state.app.total = 7")
    assert 'total' in kernel.run('%wave state /m')['data'][0]['text/html']
    for bad, message in [('%wave', 'Usage'), ('%wave frobnicate', 'unknown %wave command'),
                         ('%wave listen nope', 'starts with "/"'), ('%wave listen /x missing_fn', 'no handler named'),
                         ('%wave listen /x --mode sideways', 'invalid choice'), ('%wave show /nope', 'no app at'),
                         ('%wave stop', 'say which app')]:
        err = kernel.run(bad, allow_error=True)
        shown = (err['error'] or '') + err['stderr']  # IPython shows a UsageError on stderr
        assert 'UsageError' in shown and message in shown, (bad, shown)
    assert 'stopped /m' in kernel.run('%wave stop /m')['stdout']
    kernel.run('%wave stop --all')
    assert kernel.eval('len(apps)') == 0


def test_kernel_shutdown_frees_the_port():
    k = Kernel()
    try:
        k.run(SERVE + "\nlisten('/demo', serve)")
        port = k.eval("server_of(apps['/demo']).port")
        with socket.create_connection(('127.0.0.1', port), timeout=5):
            pass
    finally:
        k.shutdown()

    def refused() -> bool:
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            return False
        except OSError:
            return True

    wait_for(refused, what=f'port {port} to be free after shutdown')


def test_wave_run_starts_an_unmodified_file_in_the_kernel(kernel, tmp_path):
    path = tmp_path / 'filed.py'
    path.write_text(textwrap.dedent('''\
        from h2o_wave import main, app, Q, ui

        @app('/filed')
        async def serve(q: Q):
            q.page['x'] = ui.markdown_card(box='1 1 2 2', title='File', content='served from a file')
            await q.page.save()
    '''))
    out = kernel.run(f'%load_ext wave_jupyter\nfrom wave_jupyter import apps\n%wave run {path}')
    assert 'Running' in out['stdout']
    wait_for(lambda: kernel.eval("'/filed' in apps"), what='the file app to mount')
    port, secret = kernel.eval("(server_of(apps['/filed']).port, server_of(apps['/filed']).secret)")
    tab_of({'port': port, 'secret': secret}, '/filed').recv_text('served from a file')
    err = kernel.run('%wave run /no/such/file.py', allow_error=True)
    assert 'no such Wave file' in err['stderr'] + (err['error'] or '')
    kernel.run("apps['/filed'].stop()")


def _refused(port: int) -> bool:
    try:
        socket.create_connection(('127.0.0.1', port), timeout=1).close()
        return False
    except OSError:
        return True


def test_kernel_restart_leaves_no_orphan_port():
    k = Kernel()
    try:
        k.run(SERVE + "\nlisten('/demo', serve)")
        old = k.eval("server_of(apps['/demo']).port")
        k.km.restart_kernel(now=False)
        k.kc.wait_for_ready(timeout=60)
        assert _refused(old)  # nothing listens on the old kernel's port any more
        k.run(SERVE + "\nlisten('/demo', serve)")
        new = k.eval("server_of(apps['/demo']).port")
        assert k.eval('len(apps)') == 1 and not _refused(new)
    finally:
        k.shutdown()
    wait_for(lambda: _refused(new), what='the restarted kernel to release its port on shutdown')


def test_the_kernel_opens_no_comm_a_frontend_did_not_ask_for():
    """nbclient, nbconvert and VS Code warn about a comm target they have no handler for: only widgets open."""
    k = Kernel()
    try:
        targets = k.run(SERVE)['comm_targets'] + k.run("listen('/demo', serve)")['comm_targets']
        assert targets and set(targets) == {'jupyter.widget'}, targets
    finally:
        k.shutdown()


def test_apps_channel_lists_apps_for_the_frontend_and_pushes_changes(kernel, demo):
    import uuid
    # The kernel opens no comm of its own (a front end without a handler would warn); comm_info lists its beacon.
    reply = kernel.kc.comm_info(target_name='wave_jupyter.apps', reply=True, timeout=10)['content']
    assert [c['target_name'] for c in reply['comms'].values()] == ['wave_jupyter.apps']
    comm_id = str(uuid.uuid4())
    kernel.kc.shell_channel.send(kernel.kc.session.msg('comm_open', {
        'comm_id': comm_id, 'target_name': 'wave_jupyter.apps', 'data': {}}))

    def next_snapshot() -> dict:
        while True:
            msg = kernel.kc.get_iopub_msg(timeout=10)
            if msg['msg_type'] == 'comm_msg' and msg['content']['comm_id'] == comm_id:
                return msg['content']['data']

    snap = next_snapshot()
    assert snap['t'] == 'apps'
    (entry,) = [a for a in snap['apps'] if a['route'] == '/demo']
    assert (entry['port'], entry['generation']) == (demo['port'], 0)
    assert entry['direct'] == f"http://127.0.0.1:{demo['port']}/{demo['secret']}/demo"
    assert entry['proxy'] == f"proxy/127.0.0.1:{demo['port']}/{demo['secret']}/demo"
    kernel.kc.execute(SERVE.replace("v1'", "v3'"))  # hot swap: generation goes up
    snap = next_snapshot()
    assert [a['generation'] for a in snap['apps'] if a['route'] == '/demo'] == [1]
    # A preview panel asks for a view: the kernel makes a WaveView widget (a comm of its own) and names it.
    kernel.kc.shell_channel.send(kernel.kc.session.msg('comm_msg', {
        'comm_id': comm_id, 'data': {'t': 'view', 'route': '/demo', 'ref': 'r1'}}))
    widget_comms, answer = set(), None
    while answer is None:
        msg = kernel.kc.get_iopub_msg(timeout=10)
        if msg['msg_type'] == 'comm_open' and msg['content']['target_name'] == 'jupyter.widget':
            widget_comms.add(msg['content']['comm_id'])
        elif msg['msg_type'] == 'comm_msg' and msg['content']['data'].get('t') == 'view':
            answer = msg['content']['data']
    assert answer['ref'] == 'r1' and answer['view']['model_id'] in widget_comms, 'the widget opens before the answer'
    kernel.kc.shell_channel.send(kernel.kc.session.msg('comm_msg', {
        'comm_id': comm_id, 'data': {'t': 'view', 'route': '/nope', 'ref': 'r2'}}))
    while (msg := kernel.kc.get_iopub_msg(timeout=10))['msg_type'] != 'comm_msg' or msg['content']['data'].get(
            't') != 'view':
        pass
    assert msg['content']['data']['view'] is None and 'no app at /nope' in msg['content']['data']['error']
    kernel.kc.execute("apps['/demo'].stop()")
    assert '/demo' not in [a['route'] for a in next_snapshot()['apps']]
    # Closing the apps comm (the page went away) closes the views it asked for.
    kernel.kc.shell_channel.send(kernel.kc.session.msg('comm_close', {'comm_id': comm_id, 'data': {}}))
    while (msg := kernel.kc.get_iopub_msg(timeout=10))['msg_type'] != 'comm_close':
        pass
    assert msg['content']['comm_id'] == answer['view']['model_id']
