"""An unmodified h2o_wave app, as `wave run` serves it: the hub tests run it in its own process against our server
(and against waved, for the same text after the same clicks)."""

import os
from pathlib import Path
from tempfile import mkdtemp

from h2o_wave import Q, app, main, ui  # noqa: F401 - `main` is what uvicorn serves

MODE = os.environ.get('HUB_DEMO_MODE', 'unicast')


@app('/demo', mode=MODE)
async def serve(q: Q):
    if q.events['@system'] and q.events['@system'].client_disconnect:
        gone = await q.site.cache.get('tabs', 'gone') or 0  # how many tabs the app heard leave
        await q.site.cache.set('tabs', 'gone', gone + 1)
        return
    # A tab's own page is drawn for each tab; a shared one (broadcast, multicast), once.
    first = not q.client.initialized if MODE == 'unicast' else not q.app.drawn
    if not q.client.initialized:
        q.client.initialized = True
        q.client.clicks = 0
    if first:
        q.app.drawn = True
        q.page['form'] = ui.form_card(box='1 1 3 5', items=[
            ui.textbox(name='txt', label='Text'),
            ui.button(name='go', label='Go', primary=True),
            ui.file_upload(name='up', label='Attach'),
        ])
        q.page['out'] = ui.markdown_card(box='4 1 3 2', title='Out', content='Nothing yet')
    if q.args.go:
        q.client.clicks += 1
        q.page['out'].content = f'Clicked {q.client.clicks}: {q.args.txt}'
    if q.args.up:
        path = await q.site.download(q.args.up[0], mkdtemp())
        await q.site.unload(q.args.up[0])
        q.page['out'].content = f'Attached {Path(path).read_text()}'
    await q.page.save()
