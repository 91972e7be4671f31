"""The pytest plugin (``wave_jupyter.testing``): its fixture from any test file, on apps and unmodified files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from h2o_wave import ui

from wave_jupyter import Q
from wave_jupyter.export import export_notebook

ROOT = Path(__file__).resolve().parents[1]


def test_the_plugin_is_found_through_its_entry_point(tmp_path):
    """From a folder with no conftest: installing the package is all it takes."""
    (tmp_path / 'test_it.py').write_text((ROOT / 'examples' / 'test_todo_app.py').read_text().replace(
        "Path(__file__).with_name('todo_app.py')", repr(str(ROOT / 'examples' / 'todo_app.py'))))
    done = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'test_it.py'],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and '2 passed' in done.stdout, done.stdout + done.stderr


async def test_startup_modes_and_state(wave_test):
    started = []

    async def startup():
        started.append(True)

    async def serve(q: Q):
        q.user.n = (q.user.n or 0) + (1 if q.args.inc else 0)
        q.page['c'] = ui.markdown_card(box='1 1 2 2', title=q.auth.username, content=f'n={q.user.n}')
        await q.page.save()

    wave_test.app('/count', serve, mode='multicast', on_startup=startup)
    await wave_test.start()
    assert started == [True]
    ada1, ada2, bob = (wave_test.tab('/count', user=u) for u in ('ada', 'ada', 'bob'))
    await ada1.click('inc')
    assert (ada2.card('c')['content'], bob.card('c')['content']) == ('n=1', 'n=0')  # one page per user
    assert ada2.user_state.n == 1 and bob.card('c')['title'] == 'bob'
    with pytest.raises(KeyError, match="no card 'nope' on /count"):
        ada1.card('nope')
    with pytest.raises(KeyError, match="no app at '/other'"):
        wave_test.tab('/other')


async def test_an_exported_notebook_tested_without_a_browser(wave_test, tmp_path):
    app_file = tmp_path / 'forms_app.py'
    app_file.write_text(export_notebook(ROOT / 'notebooks' / '02_forms_and_state.ipynb', file=app_file.name))
    wave_test.load(app_file)
    tab = wave_test.tab()
    await tab.click('submit', flavor='mango', scoops=2, note='')
    assert '2 scoop(s) of **mango**' in tab.card('out')['content']
    assert tab.client_state.flavor == 'mango' and tab.app_state.visits == 2
