"""The app the soak test runs (a plain h2o_wave-style file): counts every event per client, answers each one."""

from h2o_wave import Q, app, main, ui  # noqa: F401 - `main` keeps it runnable under waved too


@app('/soak')
async def serve(q: Q):
    if q.args.report:
        q.page['r'] = ui.markdown_card(box='1 1 2 2', title='report', content=str(dict(q.app.handled or {})))
        await q.page.save()
        return
    q.app.handled = q.app.handled or {}
    q.app.handled[q.client_id] = q.app.handled.get(q.client_id, 0) + (1 if q.args.i is not None else 0)
    if q.client.last is not None and q.args.i is not None and q.args.i != q.client.last + 1:
        q.app.out_of_order = (q.app.out_of_order or 0) + 1
    if q.args.i is not None:
        q.client.last = q.args.i
    q.page['c'] = ui.markdown_card(box='1 1 2 2', title='soak', content=f'i={q.args.i}')
    await q.page.save()
