"""A Wave app file, written for h2o_wave only: a shared to-do list with attachments. Run it with `wave run todo_app`
(the Wave server) or `python -m wave_jupyter run todo_app.py`; `test_todo_app.py` tests it without a browser."""

import tempfile

from h2o_wave import Q, app, main, on, run_on, ui  # noqa: F401  (main: what `wave run` serves)


def render(q: Q) -> None:
    items = [ui.text(f'{"x" if done else "-"} {title} ({who})') for title, who, done in q.app.todos]
    q.page['list'] = ui.form_card(box='1 1 4 6', items=[
        *items,
        ui.textbox(name='title', label='New item'),
        ui.buttons([ui.button(name='add', label='Add', primary=True), ui.button(name='done', label='Done first')]),
        ui.file_upload(name='attach', label='Attach a note'),
        ui.text(f'attachments: {", ".join(q.user.notes or []) or "none"}'),
    ])


@on()
async def add(q: Q):
    if q.args.title:
        q.app.todos.append((q.args.title, q.auth.username, False))


@on()
async def done(q: Q):
    open_items = [i for i, (_, _, finished) in enumerate(q.app.todos) if not finished]
    if open_items:
        title, who, _ = q.app.todos[open_items[0]]
        q.app.todos[open_items[0]] = (title, who, True)


@on()
async def attach(q: Q):
    with tempfile.TemporaryDirectory() as folder:  # not the current directory: a run leaves nothing behind
        local = await q.site.download(q.args.attach[0], folder)
        with open(local, encoding='utf-8') as f:
            q.user.notes = [*(q.user.notes or []), f.read().strip()]


@app('/todo', mode='broadcast')
async def serve(q: Q):
    if q.app.todos is None:
        q.app.todos = []
    await run_on(q)
    render(q)
    await q.page.save()
