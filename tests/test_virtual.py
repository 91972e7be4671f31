"""VirtualTab: a browserless tab through the real broker (what notebooks and teaching use)."""

from __future__ import annotations

from h2o_wave import ui

from wave_jupyter import Q
from wave_jupyter.virtual import VirtualTab


async def greet(q: Q) -> None:
    if not q.client.initialized:
        q.client.initialized = True
        q.page['form'] = ui.form_card(box='1 1 3 3', items=[
            ui.textbox(name='who', label='Name'), ui.button(name='go', label='Greet')])
        q.page['out'] = ui.markdown_card(box='4 1 3 3', title='Out', content='')
    if q.args.go:
        q.page['out'].content = f'Hello, {q.args.who}!'
    if q.events.tbl:
        q.page['out'].content = f'selected {q.events.tbl.select}'
    await q.page.save()


def test_virtual_tab_clicks_and_sees_ops(wave):
    app = wave.listen('/demo', greet)

    async def scenario():
        tab = VirtualTab(app)
        await tab.settle()
        assert 'Greet' in tab.text() and tab.frames[0] == {'i': tab.id}
        frames = await tab.click('go', who='Ada')
        assert frames == [{'d': [{'k': 'out content', 'v': 'Hello, Ada!'}]}]
        assert tab.page.to_dict()['out']['content'] == 'Hello, Ada!'
        await tab.emit('tbl', 'select', ['r1'])
        assert "selected ['r1']" in tab.text()
        assert app.last_query.events.tbl.select == ['r1']
        tab.close()
        return tab.id

    cid = wave.call(scenario)
    assert cid in app.state.clients
