"""The realtime-stream app (h2o_wave style): a plot card whose cyclic buffer gets one row per tick.

A query ``{"start": true, "hz": 60, "seconds": 30}`` runs the loop in that handler: row ``[i, t_i]`` where ``t_i`` is
the tick's *scheduled* time on the machine's monotonic clock (``time.perf_counter``; the same clock in every process
on Linux), so a client's receive time minus ``t_i`` is the whole lag, falling behind schedule included.
"""

import asyncio
import time

from h2o_wave import Q, app, data, main, ui  # noqa: F401 - `main` is what uvicorn serves under waved


@app('/stream', mode='broadcast')
async def serve(q: Q):
    if not q.app.initialized:
        q.app.initialized = True
        q.page['plot'] = ui.plot_card(box='1 1 6 4', title='Stream', data=data('i t', -200, rows=[[0, 0.0]]),
                                      plot=ui.plot([ui.mark(type='line', x='=i', y='=t')]))
        await q.page.save()
    if q.args.start and not q.app.running:
        q.app.running = True
        period, ticks = 1 / float(q.args.hz), int(float(q.args.hz) * float(q.args.seconds))
        t0 = time.perf_counter() + period
        for i in range(1, ticks + 1):
            due = t0 + (i - 1) * period
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            q.page['plot'].data[-1] = [i, due]
            await q.page.save()
        q.app.running = False
