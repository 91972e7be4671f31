"""Behind a non-root Jupyter base URL, through jupyter-server-proxy: the unchanged UI gets the outer prefix."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import wait_for
from h2o_wave import ui
from jupyter_process import JupyterServer

from wave_jupyter import Q


@pytest.fixture(scope='module')
def jupyter(tmp_path_factory):
    server = JupyterServer(tmp_path_factory.mktemp('proxy'), app='server', base_url='/user/test/')
    yield server
    server.stop()


async def counter(q: Q) -> None:
    q.client.n = (q.client.n or 0) + (1 if q.args.go else 0)
    if q.args.up:
        q.client.uploaded = q.args.up[0]
        q.client.body = Path(await q.site.download(q.args.up[0], '/tmp')).read_text(encoding='utf-8')
    q.page['f'] = ui.form_card(box='1 1 3 4', items=[
        ui.button(name='go', label=f'n={q.client.n}'), ui.file_upload(name='up', label='Upload'),
        ui.text(f'body={q.client.body}')])
    await q.page.save()


def test_app_renders_and_works_through_jupyter_server_proxy(wave, jupyter, page, tmp_path):
    app = wave.listen('/demo', counter)
    page.goto(f'{jupyter.url}api/status?token={jupyter.token}')  # log in to Jupyter (its cookie)
    proxied = f'{jupyter.url}{wave.server.browser_urls("/demo")["proxy"]}'  # proxy/127.0.0.1:P/..., never by name
    page.goto(proxied)
    page.wait_for_selector('text=n=0')
    prefix = f'/user/test/proxy/127.0.0.1:{wave.server.port}/'
    assert page.evaluate('document.body.dataset.baseUrl') == f'{prefix}{wave.server.secret}/'
    page.click('[data-test=go]')
    page.wait_for_selector('text=n=1')
    client = app.tabs[0]
    assert app.last_query.args.go is True
    src = tmp_path / 'proxied.txt'
    src.write_text('through the proxy')
    page.set_input_files('input[type=file]', str(src))
    page.click('button:has-text("Upload")')
    page.wait_for_selector('text=body=through the proxy')
    assert app.state.clients[client.id].uploaded.startswith(f'{prefix}_f/')
    assert wave.server.secret not in app.state.clients[client.id].uploaded
    old = client.conn
    wave.call(old.close)  # the socket drops: the tab reconnects through the proxy as the same client
    wait_for(lambda: client.conn is not None and client.conn is not old, what='the tab to reconnect')
    page.click('[data-test=go]')
    page.wait_for_selector('text=n=2')
    assert app.tabs == [client]
