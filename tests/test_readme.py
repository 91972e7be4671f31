"""The benchmark table the READMEs promise is there, with a row for every scenario (a formatting slip can't drop it)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'benchmarks'))
from common import TABLE_END, TABLE_START  # noqa: E402
from run import SCENARIOS  # noqa: E402


@pytest.mark.parametrize('readme', ['README.md', 'benchmarks/README.md'])
def test_the_benchmark_table_has_a_row_for_every_scenario(readme):
    text = (ROOT / readme).read_text(encoding='utf-8')
    assert text.count(TABLE_START) == 1 and text.count(TABLE_END) == 1
    block = text[text.index(TABLE_START):text.index(TABLE_END)]
    assert re.search(r'^Machine: .+ run \d{4}-\d\d-\d\d', block, re.M), 'the machine and the date of the run'
    rows = [line for line in block.splitlines() if line.startswith('| ') and not line.startswith('| scenario')]
    scenarios = {line.split('|')[1].strip() for line in rows}
    assert set(SCENARIOS) <= scenarios, f'no row for {sorted(set(SCENARIOS) - scenarios)} in {readme}'
    assert 'written:' not in block
