"""``python -m wave_jupyter run app.py [--port N]``: serve an unmodified Wave app or script file."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from .runner import run_file
from .server import DEFAULT_PORT, PORT_ENV


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='python -m wave_jupyter', description=__doc__)
    sub = parser.add_subparsers(dest='command', required=True)
    run = sub.add_parser('run', help='serve a Wave app (@app / listen) or script (site pages) file')
    run.add_argument('file', help='path to the .py file, run unmodified')
    run.add_argument('--port', type=int, default=None,
                     help=f'port on 127.0.0.1 (default: ${PORT_ENV} or {DEFAULT_PORT}; 0 = any free port)')
    run.add_argument('-v', '--verbose', action='store_true', help='log every request and frame')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    if not os.path.isfile(args.file):
        parser.error(f'no such file: {args.file}')
    port = args.port if args.port is not None else int(os.environ.get(PORT_ENV, DEFAULT_PORT))
    try:
        return run_file(args.file, port)
    except OSError as e:
        print(f'wave_jupyter: {e}', file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
