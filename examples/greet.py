"""The demo app of the README: type a name, click Greet."""

from h2o_wave import ui

from wave_jupyter import Q, listen


async def serve(q: Q):
    if not q.client.initialized:
        q.client.initialized = True
        q.page['form'] = ui.form_card(box='1 1 3 3', items=[
            ui.textbox(name='who', label='Name'),
            ui.button(name='go', label='Greet', primary=True),
        ])
        q.page['out'] = ui.markdown_card(box='4 1 3 3', title='Out', content='')
    if q.args.go:
        q.page['out'].content = f'Hello, {q.args.who}!'
    await q.page.save()


listen('/demo', serve)
