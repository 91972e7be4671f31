"""Testing a Wave app without a browser, with wave_jupyter's pytest plugin (installed with the package).

Run: `pytest examples/test_todo_app.py`. The file under test (`todo_app.py`) imports only h2o_wave.
"""

from pathlib import Path

APP = Path(__file__).with_name('todo_app.py')


async def test_adding_an_item_shows_it_in_every_tab(wave_test):
    wave_test.load(APP)
    ada, grace = wave_test.tab('/todo', user='ada'), wave_test.tab('/todo', user='grace')
    await ada.click('add', title='Write the tests')
    assert '- Write the tests (ada)' in ada.text()
    assert '- Write the tests (ada)' in grace.text()  # a broadcast app: one page for everybody
    await grace.click('done')
    assert 'x Write the tests (ada)' in ada.text()
    assert wave_test.apps['/todo'].state.app.todos == [('Write the tests', 'ada', True)]


async def test_an_upload_reaches_the_handler_and_the_users_state(wave_test, tmp_path):
    wave_test.load(APP)
    tab = wave_test.tab(user='ada')
    await tab.upload('attach', {'note.txt': b'buy milk\n'})
    assert tab.user_state.notes == ['buy milk']
    assert 'attachments: buy milk' in tab.text()
    card = tab.card('list')
    assert card['view'] == 'form'
