"""wave_jupyter inside a real Jupyter kernel: is the kernel still usable while its app is under fan-out load?

A kernel started with jupyter_client runs ``listen('/bcast', bcast_app.serve, mode='broadcast')``: the server and
the handler live on the kernel's own event loop. Cells of ``1+1`` are timed (execute request -> execute reply) with the
kernel idle, then while another process (``fanout.py --load``) keeps N clients busy with broadcast updates.
There is no waved column: waved cannot run in a kernel.

    python benchmarks/kernel.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import queue
import subprocess
import sys
import time
from pathlib import Path

from common import row, summary, table, value
from jupyter_client import KernelManager

HERE = Path(__file__).resolve().parent
SETUP = '''
import sys
sys.path.insert(0, {here!r})
import bcast_app
from wave_jupyter import listen, server_of
_bench_app = listen('/bcast', bcast_app.serve, mode='broadcast')
_srv = server_of(_bench_app)
print('BENCH', {{'port': _srv.port, 'route': '/bcast', 'ws_path': _srv.root + '_s/',
      'headers': {{'Origin': f'http://127.0.0.1:{{_srv.port}}'}}}})
'''


def cell(kc, code: str = '1+1', timeout: float = 30) -> float:
    """ms from sending an execute request to its reply."""
    t0 = time.perf_counter()
    msg_id = kc.execute(code)
    while kc.get_shell_msg(timeout=timeout)['parent_header'].get('msg_id') != msg_id:
        pass
    ms = (time.perf_counter() - t0) * 1000
    try:
        while True:
            kc.get_iopub_msg(timeout=0)  # drain: status, execute_input, execute_result
    except queue.Empty:
        pass
    return ms


def run(quick: bool = False) -> tuple[list[dict], dict]:
    clients, seconds, idle_cells = (50, 5, 30) if quick else (500, 20, 100)
    km = KernelManager(kernel_name='python3')
    km.start_kernel(cwd=str(HERE), stderr=subprocess.DEVNULL)
    try:
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        out: list[str] = []
        kc.execute_interactive(SETUP.format(here=str(HERE)),
                               timeout=60, output_hook=lambda m: out.append(m['content'].get('text', '')))
        line = next(x for x in ''.join(out).splitlines() if x.startswith('BENCH '))
        target = eval(line[6:], {})  # a dict literal printed by our own setup cell
        idle = [cell(kc) for _ in range(idle_cells)]
        load = subprocess.Popen([sys.executable, str(HERE / 'fanout.py'), '--load', json.dumps(target),
                                 '--clients', str(clients), '--seconds', str(seconds)],
                                cwd=HERE, stdout=subprocess.PIPE, text=True)
        try:
            if load.stdout.readline().strip() != 'ready':
                raise RuntimeError('the fan-out load did not start')
            busy = []
            deadline = time.monotonic() + seconds + 30
            while load.poll() is None and time.monotonic() < deadline:
                busy.append(cell(kc))
                time.sleep(0.02)
            result = json.loads(load.communicate(timeout=30)[0].strip().splitlines()[-1])
        finally:
            if load.poll() is None:
                load.kill()
        kc.stop_channels()
    finally:
        km.shutdown_kernel(now=True)
    res = {'idle': summary(idle), 'busy': summary(busy), 'load': result}
    rows = [row('kernel', 'cell 1+1, kernel idle', 'ms', {'wave_jupyter': res['idle']}),
            row('kernel', f'cell 1+1, app under fan-out ({clients} cl.)', 'ms', {'wave_jupyter': res['busy']}),
            row('kernel', f'fan-out from the kernel, {clients} clients', '1/s',
                {'wave_jupyter': value(result['rate'])}, lower_is_better=False),
            row('kernel', f'  its update -> all {clients} clients', 'ms', {'wave_jupyter': result['latency']})]
    return rows, {'kernel': res}


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--quick', action='store_true')
    rows, details = run(ap.parse_args().quick)
    print(table(rows))
