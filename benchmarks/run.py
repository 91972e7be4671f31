"""Every scenario, both stacks, one table; the same rows (and each scenario's details) as JSON.

    python benchmarks/run.py [--quick] [--json results.json] [--only fanout,stream] [--markdown]

``--quick`` is a ~1-minute smoke run (fewer clicks, clients and seconds); the default full run takes ~6-8 minutes
on 2 cores.
The ratio column is wave_jupyter ÷ waved on the medians: below 1 is better for wave_jupyter where lower is better
(ms, %, MB), above 1 where higher is (updates/s, delivered).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import machine, markdown, table, write_table  # noqa: E402

SCENARIOS = {'click': 'click_latency', 'ws': 'ws_roundtrip', 'fanout': 'fanout', 'stream': 'stream', 'cost': 'cost',
             'kernel': 'kernel', 'comm': 'comm', 'lite': 'lite', 'hub': 'hub'}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--quick', action='store_true', help='~1 minute smoke run')
    ap.add_argument('--json', default=str(HERE / 'results.json'),
                    help='where to write the results (default: %(default)s)')
    ap.add_argument('--only', help=f'comma-separated subset of {",".join(SCENARIOS)}')
    ap.add_argument('--markdown', action='store_true', help='also print the table as Markdown')
    ap.add_argument('--no-readme', action='store_true',
                    help="don't write the table into README.md and benchmarks/README.md (a full run does)")
    args = ap.parse_args()
    names = args.only.split(',') if args.only else list(SCENARIOS)
    started = time.time()
    report = {'started': time.strftime('%Y-%m-%d %H:%M:%S'), 'quick': args.quick,
              'machine': machine(), 'rows': [], 'details': {}, 'errors': {}, 'seconds': {}}
    for name in names:
        t0 = time.perf_counter()
        print(f'[{name}] running… (load average {os.getloadavg()[0]:.2f})', file=sys.stderr, flush=True)
        try:
            rows, details = importlib.import_module(SCENARIOS[name]).run(args.quick)
            report['rows'] += rows
            report['details'].update(details)
        except Exception:  # noqa: BLE001 - one broken scenario must not lose the others
            report['errors'][name] = traceback.format_exc()
            print(report['errors'][name], file=sys.stderr)
        report['seconds'][name] = round(time.perf_counter() - t0, 1)
    report['machine']['loadavg_after'] = os.getloadavg()
    report['total_seconds'] = round(time.time() - started, 1)
    m = report['machine']
    print(f'\n{m["nproc"]} x {m["cpu"]}, {m["memory"]} RAM, Python {m["python"]}; load average before '
          f'{m["loadavg"][0]:.2f}, after {m["loadavg_after"][0]:.2f}; {report["total_seconds"]:.0f} s'
          '')
    print(table(report['rows']))
    if args.markdown:
        print('\n' + markdown(report['rows']))
    with open(args.json, 'w') as f:
        json.dump(report, f, indent=1)
    if not (args.quick or args.only or args.no_readme or report['errors']):  # only a whole, full run
        for readme in (HERE.parent / 'README.md', HERE / 'README.md'):
            write_table(str(readme), report)
        print('table written into README.md and benchmarks/README.md')
    print(f'\nwritten: {args.json}' + (f'; failed: {", ".join(report["errors"])}' if report['errors'] else ''))
    return 1 if report['errors'] else 0


if __name__ == '__main__':
    sys.exit(main())
