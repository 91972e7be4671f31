"""Programs in other processes against each Wave server (the hub API): the same h2o_wave app under uvicorn, as
`wave run` starts it, registered with waved and with `python -m wave_jupyter serve`, and the same sync script
saving a page, side by side in one run.

* click -> text in DOM in headless Chromium (``click_latency``'s method): browser -> server -> the app's process ->
  its PATCH -> server -> browser;
* one ``page.save()`` of a script (an HTTP PATCH, relayed to a watching tab), over many saves.

    python benchmarks/hub.py [--clicks 200] [--saves 500]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from click_latency import CHROMIUM_ARGS, measure
from common import row, summary
from playwright.sync_api import sync_playwright
from stacks import APP

from wave_jupyter.production import Waved, free_port, stop_process

#: A sync script: ``n`` saves of one card, each timed; prints the times (ms), one per line.
SAVES = '''import sys, time
from h2o_wave import site, ui
page = site['/bench']
page['m'] = ui.markdown_card(box='1 1 2 2', title='t', content='0')
page.save()
for i in range(int(sys.argv[1])):
    page['m'].content = str(i)
    t0 = time.perf_counter()
    page.save()
    print((time.perf_counter() - t0) * 1000)
'''


class Ours:
    """`python -m wave_jupyter serve` and the app under `wave run`, with the environment serve writes."""

    def __init__(self, app: Path) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix='wave_jupyter_bench_hub_')
        env_file = Path(self._dir.name) / 'wave.env'
        self.server = subprocess.Popen([sys.executable, '-m', 'wave_jupyter', 'serve', '--port', '0', '--env-file',
                                        str(env_file)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.server.stdout.readline()
        self.env = dict(re.findall(r"^export (\w+)='([^']*)'$", env_file.read_text(), re.M))
        root = line.split('Wave server at ', 1)[1].split(';')[0]
        self.url = root + 'demo'
        self.app = subprocess.Popen([sys.executable, '-m', 'h2o_wave', 'run', '--no-reload', app.stem], cwd=app.parent,
                                    env={**os.environ, **self.env, 'H2O_WAVE_APP_ADDRESS':
                                         f'http://127.0.0.1:{free_port()}'},
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while 'Wave app at' not in (line := self.server.stdout.readline()):
            if not line:
                raise RuntimeError('serve exited')

    def stop(self) -> None:
        stop_process(self.app)
        stop_process(self.server)
        self._dir.cleanup()


def script_saves(env: dict, n: int) -> list[float]:
    done = subprocess.run([sys.executable, '-c', SAVES, str(n)], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=600, check=True)
    return [float(x) for x in done.stdout.split()][n // 10:]  # the first tenth warms the connection up


def run(quick: bool = False, clicks: int = 200, saves: int = 500) -> tuple[list[dict], dict]:
    if quick:
        clicks, saves = 30, 100
    res: dict[str, dict] = {'click': {}, 'save': {}}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path='/usr/bin/chromium', args=CHROMIUM_ARGS)
        with Waved(APP) as waved:
            res['click']['waved'] = summary(measure(browser, waved, clicks))
            hub_env = {k: v for k, v in waved.env.items() if k.startswith('H2O_WAVE_') and 'APP_' not in k}
            res['save']['waved'] = summary(script_saves(hub_env, saves))
        ours = Ours(APP)
        try:
            res['click']['wave_jupyter'] = summary(measure(browser, ours, clicks))
            res['save']['wave_jupyter'] = summary(script_saves(ours.env, saves))
        finally:
            ours.stop()
        browser.close()
    rows = [row('hub', 'click -> DOM, app in another process', 'ms', res['click']),
            row('hub', "a script's page.save()", 'ms', res['save'])]
    return rows, res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--clicks', type=int, default=200)
    ap.add_argument('--saves', type=int, default=500)
    ap.add_argument('--quick', action='store_true')
    args = ap.parse_args()
    from common import table
    started = time.time()
    rows, _ = run(args.quick, args.clicks, args.saves)
    print(table(rows))
    print(f'({time.time() - started:.0f} s)')


if __name__ == '__main__':
    main()
