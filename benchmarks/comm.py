"""The comm rung against the direct one, inside a real JupyterLab in headless Chromium (no waved here: the question is
what carrying the UI over the kernel's comm costs).

* click -> text in DOM (measured in the app's page, as ``click_latency`` does) for a view over the comm and one
  direct to the kernel's port; goal: comm <= 3x direct;
* first paint of a comm view: cold (a new browser profile: every UI file over the comm) and warm (from the browser's
  cache, with the two views above open); goal: warm <= 1.5 s;
* kernel memory per comm view (RSS growth over 10 more views).

    python benchmarks/comm.py [--clicks 100]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from click_latency import CHROMIUM_ARGS, CLICK
from common import row, summary, value
from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / 'tests'))
from jupyter_process import JupyterServer  # noqa: E402 - the tests' JupyterLab launcher
from test_jupyterlab import run_cell, wait_for_kernel  # noqa: E402

SETUP = f'''import os, sys, psutil
sys.path.insert(0, {str(HERE)!r})
import latency_app
from wave_jupyter import apps, listen
listen('/demo', latency_app.serve, transport='direct')'''
CELLS = [
    SETUP,
    "listen('/comm', latency_app.serve, transport='comm')",
    "psutil.Process().memory_info().rss",
    "from wave_jupyter.jupyter.display import view\nfrom ipywidgets import VBox\n"
    "VBox([view(apps['/comm'], height=120) for _ in range(10)])",
    "psutil.Process().memory_info().rss",
    "%wave show /comm",
]

def app_frame(page, cell: int):
    handle = page.locator(f'.jp-Notebook .jp-Cell >> nth={cell} >> iframe.wave-jupyter-frame').element_handle()
    return handle.content_frame()


def clicks(frame, n: int, warmup: int = 10) -> list[float]:
    frame.wait_for_selector('[data-test=go]')
    times = []
    for i in range(1, warmup + n + 1):
        ms = frame.evaluate(CLICK, i)
        if i > warmup:
            times.append(ms)
    return times


def paint(page, cell: int) -> float:
    """ms from running a cell to the app's button in its view."""
    t0 = time.perf_counter()
    run_cell(page, cell)
    page.locator(f'.jp-Notebook .jp-Cell >> nth={cell} >> iframe.wave-jupyter-frame').wait_for()
    page.frame_locator(f'.jp-Notebook .jp-Cell >> nth={cell} >> iframe.wave-jupyter-frame').locator(
        '[data-test=go]').first.wait_for(timeout=120_000)
    return (time.perf_counter() - t0) * 1000


def rss(page, cell: int) -> int:
    run_cell(page, cell)
    text = page.locator('.jp-Notebook .jp-Cell').nth(cell).locator('.jp-OutputArea-output').inner_text()
    return int(text.strip().split()[-1])


def collect(n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
        nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
        nbformat.write(nb, root / 'bench.ipynb')
        server = JupyterServer(root, app='lab', extra_args=('--LabApp.expose_app_in_browser=True',))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path='/usr/bin/chromium', args=CHROMIUM_ARGS)
                ctx = browser.new_context(viewport={'width': 1400, 'height': 1000})  # a new profile: nothing cached
                page = ctx.new_page()
                page.set_default_timeout(120_000)
                page.goto(f'{server.url}lab/tree/bench.ipynb?token={server.token}')
                page.wait_for_selector('.jp-Notebook .jp-Cell')
                wait_for_kernel(page)
                direct_paint = paint(page, 0)
                cold = paint(page, 1)
                direct = clicks(app_frame(page, 0), n)
                comm = clicks(app_frame(page, 1), n)
                # Warm first paints before the ten views below: each of them keeps a live UI running in the page.
                warm = [paint(page, 5) for _ in range(3)]
                before = rss(page, 2)
                run_cell(page, 3)
                page.wait_for_function('''() => document.querySelectorAll(
                    '.jp-Notebook .jp-Cell:nth-child(4) .wave-jupyter-view[data-state=live]').length >= 10''',
                                       timeout=180_000)
                after = rss(page, 4)
                browser.close()
        finally:
            server.stop()
    return {'direct': summary(direct), 'comm': summary(comm), 'paint_direct': direct_paint, 'paint_cold': cold,
            'paint_warm': summary(warm), 'rss_per_view': (after - before) / 10 / 1e6}


def run(quick: bool = False) -> tuple[list[dict], dict]:
    n = 30 if quick else 100
    r = collect(n)
    ratio = r['comm']['median'] / r['direct']['median']
    rows = [
        row('comm', f'click -> DOM over the comm ({n} clicks)', 'ms', {'wave_jupyter': r['comm']},
            note=f'{ratio:.2f}x direct'),
        row('comm', f'click -> DOM direct, same page ({n} clicks)', 'ms', {'wave_jupyter': r['direct']}),
        row('comm', 'first paint over the comm, cold', 'ms', {'wave_jupyter': value(r['paint_cold'])}),
        row('comm', 'first paint over the comm, warm', 'ms', {'wave_jupyter': r['paint_warm']}),
        row('comm', 'first paint direct', 'ms', {'wave_jupyter': value(r['paint_direct'])}),
        row('comm', 'kernel RSS per comm view', 'MB', {'wave_jupyter': value(r['rss_per_view'])}),
    ]
    return rows, {'comm': r}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--clicks', type=int, default=100)
    args = ap.parse_args()
    r = collect(args.clicks)
    print(f"click -> DOM (ms, median/p90): comm {r['comm']['median']:.2f}/{r['comm']['p90']:.2f}, "
          f"direct {r['direct']['median']:.2f}/{r['direct']['p90']:.2f}, "
          f"ratio {r['comm']['median'] / r['direct']['median']:.2f}")
    print(f"first paint (ms): direct {r['paint_direct']:.0f}, comm cold {r['paint_cold']:.0f}, "
          f"comm warm {r['paint_warm']['median']:.0f}")
    print(f"kernel RSS per comm view: {r['rss_per_view']:.2f} MB")


if __name__ == '__main__':
    main()
