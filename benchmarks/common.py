"""Shared bits of the scenarios: statistics, result rows, the table, the machine description."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess

STACK_NAMES = ('wave_jupyter', 'waved')


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def summary(xs: list[float]) -> dict:
    """Median, p90, p99 of samples (``n`` = how many)."""
    if not xs:
        return {'n': 0, 'median': None, 'p90': None, 'p99': None}
    return {'n': len(xs), 'median': statistics.median(xs), 'p90': percentile(xs, 90), 'p99': percentile(xs, 99)}


def value(x: float | None) -> dict:
    """A single figure (throughput, memory): shown in the median column."""
    return {'median': x}


def row(scenario: str, metric: str, unit: str, results: dict[str, dict], lower_is_better: bool = True,
        note: str = '') -> dict:
    """One line of the table: ``results`` maps stack name to :func:`summary` / :func:`value`."""
    wj, wd = results.get('wave_jupyter', {}).get('median'), results.get('waved', {}).get('median')
    ratio = wj / wd if wj is not None and wd else None
    return {'scenario': scenario, 'metric': metric, 'unit': unit, 'lower_is_better': lower_is_better,
            **{name: results.get(name) for name in STACK_NAMES}, 'ratio': ratio, 'note': note}


def _fmt(x: float | None) -> str:
    if x is None:
        return '-'
    return f'{x:.3g}' if abs(x) < 100 else f'{x:.0f}'


def table(rows: list[dict]) -> str:
    """Plain text: one line per metric, both stacks' median / p90 / p99, then wave_jupyter ÷ waved (medians)."""
    head = (f'{"scenario":<9} {"metric":<40} {"unit":<6}| {"wave_jupyter med":>16} {"p90":>7} {"p99":>7} '
            f'| {"waved med":>9} {"p90":>7} {"p99":>7} | {"ratio":>6}')
    lines = [head, '-' * len(head)]
    for r in rows:
        cells = []
        for name in STACK_NAMES:
            s = r.get(name) or {}
            cells.append((_fmt(s.get('median')), _fmt(s.get('p90')), _fmt(s.get('p99'))))
        (a, b, c), (d, e, f) = cells
        ratio = f'{r["ratio"]:.2f}' if r.get('ratio') is not None else '-'
        lines.append(f'{r["scenario"]:<9} {r["metric"]:<40} {r["unit"]:<6}| {a:>16} {b:>7} {c:>7} '
                     f'| {d:>9} {e:>7} {f:>7} | {ratio:>6}')
    return '\n'.join(lines)


def markdown(rows: list[dict]) -> str:
    out = ['| scenario | metric | unit | wave_jupyter median | p90 | p99 | waved median | p90 | p99 | ratio |',
           '|---|---|---|---:|---:|---:|---:|---:|---:|---:|']
    for r in rows:
        cells = [_fmt((r.get(n) or {}).get(k)) for n in STACK_NAMES for k in ('median', 'p90', 'p99')]
        ratio = f'{r["ratio"]:.2f}' if r.get('ratio') is not None else '-'
        out.append(f'| {r["scenario"]} | {r["metric"]} | {r["unit"]} | ' + ' | '.join(cells) + f' | {ratio} |')
    return '\n'.join(out)


def machine() -> dict:
    """What the README's table needs: cores, memory, CPU model, OS, Python, and the load average now."""
    model = ''
    try:
        with open('/proc/cpuinfo') as f:
            model = next((line.split(':', 1)[1].strip() for line in f if line.startswith('model name')), '')
    except OSError:
        pass
    try:
        mem = subprocess.run(['free', '-h'], capture_output=True, text=True, timeout=5).stdout.splitlines()[1]
    except (OSError, IndexError, subprocess.SubprocessError):
        mem = ''
    return {'nproc': os.cpu_count(), 'cpu': model, 'memory': (mem.split() or ['', ''])[1], 'os': platform.platform(),
            'python': platform.python_version(), 'loadavg': os.getloadavg()}


#: Where a full run writes its table in README.md and benchmarks/README.md (a rerun replaces it).
TABLE_START = '<!-- benchmark-table:start -->'
TABLE_END = '<!-- benchmark-table:end -->'


def describe(report: dict) -> str:
    """The machine and the run, in one line above the table."""
    m = report['machine']
    return (f'Machine: {m["nproc"]} x {m["cpu"] or "CPU"}, {m["memory"]} RAM, {m["os"]}, Python {m["python"]}; '
            f'run {report["started"]}, {report["total_seconds"]:.0f} s; load average {m["loadavg"][0]:.2f} before, '
            f'{m["loadavg_after"][0]:.2f} after.')


def write_table(path: str, report: dict) -> None:
    """Put the run's Markdown table between the markers of ``path``."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    start, end = text.index(TABLE_START) + len(TABLE_START), text.index(TABLE_END)
    block = f'\n{describe(report)}\n\n{markdown(report["rows"])}\n'
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text[:start] + block + text[end:])
