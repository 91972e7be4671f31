"""The app both stacks serve in the latency benchmarks (h2o_wave style, so waved + uvicorn can run it too).

Each click increments a counter, sets a markdown card's text and appends a row to a plot's cyclic buffer: two ops,
about 100 bytes per reply, as in the protocol doc's baseline.
"""

from h2o_wave import Q, app, data, main, ui  # noqa: F401 - `main` is what uvicorn serves under waved


@app('/demo')
async def serve(q: Q):
    if not q.client.initialized:
        q.client.initialized = True
        q.client.n = 0
        q.page['form'] = ui.form_card(box='1 1 3 3', items=[ui.button(name='go', label='Go', primary=True)])
        q.page['out'] = ui.markdown_card(box='4 1 3 2', title='Output', content='Not clicked yet')
        q.page['plot'] = ui.plot_card(box='4 3 3 3', title='Plot', data=data('x y', -100, rows=[[0, 0]]),
                                      plot=ui.plot([ui.mark(type='line', x='=x', y='=y')]))
    if q.args.go:
        q.client.n += 1
        q.page['out'].content = f'Clicked {q.client.n}: {q.args.go}'
        q.page['plot'].data[-1] = [q.client.n, q.client.n * 2]
    await q.page.save()
