"""An app written for h2o_wave that probes what a lite site (Pyodide in the browser) does: a typed value and a click,
a realtime loop, q.site.upload and a download link, a handler that raises (Wave's error card), and q.run, which needs
a thread (a clear error in a browser)."""

import asyncio
import sys
import time

from h2o_wave import Q, app, main, on, run_on, ui  # noqa: F401


def blocking_work() -> str:
    time.sleep(0.01)
    return 'done'


@on()
async def boom(q: Q):
    raise ValueError('the probe raised on purpose')


@on()
async def threaded(q: Q):
    q.client.result = await q.run(blocking_work)


@on()
async def publish(q: Q):
    with open('published.txt', 'w') as f:
        f.write(f'made in {sys.platform}')
    (q.client.link,) = await q.site.upload(['published.txt'])


@on()
async def tick(q: Q):
    for i in range(1, 6):
        q.page['out'].content = f'tick {i}'
        await q.page.save()
        await asyncio.sleep(0.05)


@app('/probe')
async def serve(q: Q):
    if not q.client.initialized:
        q.client.initialized = True
        q.page['form'] = ui.form_card(box='1 1 3 6', items=[
            ui.textbox(name='who', label='Who'), ui.button(name='go', label='Go', primary=True),
            ui.buttons([ui.button(name='tick', label='Tick'), ui.button(name='boom', label='Boom'),
                        ui.button(name='threaded', label='Threaded'), ui.button(name='publish', label='Publish')]),
        ])
        q.page['out'] = ui.markdown_card(box='4 1 3 6', title='Out', content=f'platform {sys.platform}')
    if not await run_on(q) and q.args.go:
        q.page['out'].content = f'Hello, {q.args.who}!'
    if q.client.link:
        q.page['out'].content = f'[get it]({q.client.link})'
    await q.page.save()
