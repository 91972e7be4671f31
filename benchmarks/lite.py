"""The same app as a lite site (Python in the browser, no server) and served by ``python -m wave_jupyter run``, side by
side in one run, in headless Chromium (the lite site offline: every request not to its static server aborted).

* first paint, cold (a new browser profile) and warm (a second visit: the service worker's files and the
  interpreter's snapshot), from navigation to the app's button on screen; for the lite site also when the app
  answers (Python ready and its first page in): before that, the page shown is the build's;
* click -> text in DOM (``click_latency``'s method);
* the site's size; and where a lite site's boot spends its time.

Goals (issue 20): warm first paint <= 1.5 s, cold <= 4 s, click -> DOM <= 1.5x the served app, site <= 25 MB.

    python benchmarks/lite.py [--clicks 100] [--visits 3]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from click_latency import CHROMIUM_ARGS, CLICK
from common import row, summary, value
from playwright.sync_api import sync_playwright
from stacks import APP, WaveJupyter

#: Records when the app's button first shows (ms since navigation), in any page of the context.
PAINTED = '''new MutationObserver((_, obs) => {
    if (document.querySelector('[data-test=go]')) { window.__painted = performance.now(); obs.disconnect(); }
}).observe(document, {subtree: true, childList: true});'''


#: The site's files and the interpreter's snapshot are in the browser's caches (a second visit can use them).
KEPT = '''async () => {
    const has = async (name, part) => (await (await caches.open(name)).keys()).some((r) => r.url.includes(part));
    return (await has('wave-jupyter-lite', '/files/python-')) && (await has('wave-jupyter-lite-snapshots', 'snapshot'));
}'''


class Static:
    def __init__(self, root: Path) -> None:
        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=root))
        self.origin = f'http://127.0.0.1:{self.httpd.server_address[1]}'
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def visit(ctx, url: str, lite: bool) -> dict:
    page = ctx.new_page()
    page.goto(url)
    page.wait_for_function('window.__painted', timeout=120_000)
    out = {'paint': page.evaluate('window.__painted')}
    if lite:
        page.wait_for_function("document.body.dataset.lite === 'live'", timeout=120_000)
        lite_info = page.evaluate('window.waveLite')
        out.update(answered=lite_info['timings'].get('answered'), worker=lite_info['worker'])
    out['page'] = page
    return out


def clicks(page, n: int, warmup: int = 10) -> list[float]:
    times = []
    for i in range(1, warmup + n + 1):
        ms = page.evaluate(CLICK, i)
        page.wait_for_timeout(20)  # the UI settles between clicks, as click_latency does
        if i > warmup:
            times.append(ms)
    return times


def collect(n: int, visits: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / 'site'
        subprocess.run([sys.executable, '-m', 'wave_jupyter', 'lite', 'build', str(APP), '-o', str(site)],
                       check=True, capture_output=True, timeout=300)
        size = sum(p.stat().st_size for p in site.rglob('*') if p.is_file())
        static = Static(site)
        served = WaveJupyter()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path='/usr/bin/chromium', args=CHROMIUM_ARGS)
                r: dict = {'size_mb': size / 1e6}
                for name, url, lite in [('lite', static.origin + '/', True), ('served', served.url, False)]:
                    ctx = browser.new_context()
                    if lite:
                        ctx.route('**/*', lambda route: route.continue_()
                                  if route.request.url.startswith(static.origin) else route.abort())
                    ctx.add_init_script(PAINTED)
                    cold = visit(ctx, url, lite)
                    cold['page'].close()
                    if lite:  # the next visit starts from the service worker's cache: wait until it has the files
                        probe = ctx.new_page()
                        probe.goto(static.origin + '/lite.json')
                        probe.wait_for_function(KEPT, timeout=60_000)
                        probe.close()
                    warm = [visit(ctx, url, lite) for _ in range(visits)]
                    for w in warm[:-1]:
                        w['page'].close()
                    r[name] = {
                        'cold': cold['paint'], 'warm': summary([w['paint'] for w in warm]),
                        'clicks': summary(clicks(warm[-1]['page'], n)),
                    }
                    if lite:
                        r[name].update(answered_cold=cold['answered'],
                                       answered_warm=summary([w['answered'] for w in warm]),
                                       worker_cold=cold['worker'], worker_warm=warm[-1]['worker'])
                    ctx.close()
                browser.close()
        finally:
            served.stop()
            static.close()
    return r


def run(quick: bool = False) -> tuple[list[dict], dict]:
    n, visits = (20, 2) if quick else (100, 3)
    r = collect(n, visits)
    lite, served = r['lite'], r['served']
    ratio = lite['clicks']['median'] / served['clicks']['median']
    rows = [
        row('lite', 'first paint cold, lite site', 'ms', {'wave_jupyter': value(lite['cold'])},
            note=f"served: {served['cold']:.0f} ms"),
        row('lite', '  app answers, cold (Python ready)', 'ms', {'wave_jupyter': value(lite['answered_cold'])}),
        row('lite', 'first paint warm, lite site', 'ms', {'wave_jupyter': lite['warm']},
            note=f"served: {served['warm']['median']:.0f} ms"),
        row('lite', '  app answers, warm (snapshot)', 'ms', {'wave_jupyter': lite['answered_warm']}),
        row('lite', 'first paint cold, served (run)', 'ms', {'wave_jupyter': value(served['cold'])}),
        row('lite', 'first paint warm, served (run)', 'ms', {'wave_jupyter': served['warm']}),
        row('lite', f'click -> DOM, lite site ({n} clicks)', 'ms', {'wave_jupyter': lite['clicks']},
            note=f'{ratio:.2f}x served'),
        row('lite', f'click -> DOM, served ({n} clicks)', 'ms', {'wave_jupyter': served['clicks']}),
        row('lite', 'lite site size', 'MB', {'wave_jupyter': value(r['size_mb'])}),
    ]
    return rows, {'lite': r}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--clicks', type=int, default=100)
    ap.add_argument('--visits', type=int, default=3)
    args = ap.parse_args()
    r = collect(args.clicks, args.visits)
    lite, served = r['lite'], r['served']
    print(f"site: {r['size_mb']:.1f} MB")
    print(f"first paint (ms): lite cold {lite['cold']:.0f} (app answers {lite['answered_cold']:.0f}), "
          f"warm {lite['warm']['median']:.0f} (answers {lite['answered_warm']['median']:.0f}); "
          f"served cold {served['cold']:.0f}, warm {served['warm']['median']:.0f}")
    print(f"click -> DOM (ms, median): lite {lite['clicks']['median']:.2f}, served {served['clicks']['median']:.2f}, "
          f"ratio {lite['clicks']['median'] / served['clicks']['median']:.2f}")
    print(f"where a cold boot goes (ms since the worker started): {lite['worker_cold']}")
    print(f"where a warm boot goes: {lite['worker_warm']}")


if __name__ == '__main__':
    main()
