"""The broadcast app of the fan-out and kernel scenarios (h2o_wave style: waved + uvicorn runs it too).

One shared page at ``/bcast``. A query ``{"tick": n}`` sets the markdown card to ``#n#`` and saves: that one
update goes to every connected tab. Other queries (each tab's boot) save nothing, so joining tabs do not make the
page go out again to everyone.
"""

from h2o_wave import Q, app, main, ui  # noqa: F401 - `main` is what uvicorn serves under waved


@app('/bcast', mode='broadcast')
async def serve(q: Q):
    if not q.app.initialized:
        q.app.initialized = True
        q.page['out'] = ui.markdown_card(box='1 1 3 2', title='Fan-out', content='#0#')
        await q.page.save()
    if q.args.tick is not None:
        q.page['out'].content = f'#{q.args.tick}#'
        await q.page.save()
