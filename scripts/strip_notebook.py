"""The teaching notebooks as the repository keeps them: no outputs, no execution counts, no cell or notebook metadata
but the kernel spec. Running a notebook in JupyterLab autosaves all of those (and a host:port in the outputs); this
is the git clean filter that keeps them out of commits and out of ``git status`` (``.gitattributes``; the filter is
registered in a clone by ``scripts/setup.sh``)::

    python3 scripts/strip_notebook.py < notebooks/01_hello_wave.ipynb     # the notebook as committed, on stdout

Standard library only: git runs it with whatever ``python3`` it finds."""

from __future__ import annotations

import json
import sys


def strip(notebook: dict) -> dict:
    """``notebook`` without what a run adds."""
    kept = {k: v for k, v in notebook.get('metadata', {}).items() if k == 'kernelspec'}
    cells = []
    for cell in notebook.get('cells', []):
        cell = {**cell, 'metadata': {}}
        if cell.get('cell_type') == 'code':
            cell['outputs'] = []
            cell['execution_count'] = None
        cells.append(cell)
    return {**notebook, 'cells': cells, 'metadata': kept}


def dumps(notebook: dict) -> str:
    """As nbformat writes a notebook (one-space indent, keys sorted, a final newline)."""
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + '\n'


def main() -> None:
    sys.stdout.write(dumps(strip(json.load(sys.stdin))))


if __name__ == '__main__':
    main()
