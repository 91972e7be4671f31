"""Click → visible update, measured inside the page (the protocol doc's method), for both stacks, same run.

A native click on the button, ``performance.now()`` before it, and a MutationObserver that stops the clock when the
output card shows the new text. Warm-up clicks first; then N measured clicks, one at a time.

    python benchmarks/click_latency.py [--clicks 200] [--json out.json]
"""

from __future__ import annotations

import argparse
import json

from common import percentile, row, summary  # noqa: F401 - percentile: was defined here
from playwright.sync_api import sync_playwright
from stacks import STACKS

CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync']

CLICK = '''(i) => new Promise((resolve) => {
    const out = () => document.querySelector('[data-test=out]');
    const want = `Clicked ${i}:`;
    const obs = new MutationObserver(() => {
        if (out() && out().textContent.includes(want)) { obs.disconnect(); resolve(performance.now() - t0); }
    });
    obs.observe(document.body, {subtree: true, childList: true, characterData: true});
    const t0 = performance.now();
    document.querySelector('[data-test=go]').click();
})'''


def measure(browser, stack, clicks: int, warmup: int = 10) -> list[float]:
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(stack.url)
    page.wait_for_selector('[data-test=go]')
    times = []
    for i in range(1, warmup + clicks + 1):
        ms = page.evaluate(CLICK, i)
        page.wait_for_timeout(20)  # let the UI settle between clicks, as a person would
        if i > warmup:
            times.append(ms)
    ctx.close()
    return times


def collect(clicks: int) -> dict[str, dict]:
    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path='/usr/bin/chromium', args=CHROMIUM_ARGS)
        try:
            for name, cls in STACKS.items():
                with cls() as stack:
                    results[name] = summary(measure(browser, stack, clicks))
        finally:
            browser.close()
    return results


def run(quick: bool = False) -> tuple[list[dict], dict]:
    clicks = 30 if quick else 200
    results = collect(clicks)
    return [row('click', f'click -> text in DOM ({clicks} clicks)', 'ms', results)], {'click': results}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--clicks', type=int, default=200)
    ap.add_argument('--json')
    args = ap.parse_args()
    results = collect(args.clicks)
    ours, theirs = results['wave_jupyter'], results['waved']
    print(f'click -> text in DOM, in-page, {args.clicks} clicks each (ms)')
    print(f'{"stack":<14}{"median":>8}{"p90":>8}{"p99":>8}')
    for name, r in results.items():
        print(f'{name:<14}{r["median"]:>8.2f}{r["p90"]:>8.2f}{r["p99"]:>8.2f}')
    print(f'{"ratio":<14}{ours["median"] / theirs["median"]:>8.2f}{ours["p90"] / theirs["p90"]:>8.2f}'
          f'{ours["p99"] / theirs["p99"]:>8.2f}   (wave_jupyter / waved; < 1 is faster)')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2)


if __name__ == '__main__':
    main()
