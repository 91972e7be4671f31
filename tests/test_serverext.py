"""The server extension (``wave_jupyter/serverext/``): kernel WebSockets with TCP_NODELAY, on whatever connection
class the server is configured with, the page told to ignore the kernel status around comm messages, and no secret in
the server's log."""

from __future__ import annotations

import asyncio
import logging
import socket
import types
from concurrent.futures import ThreadPoolExecutor

from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from tornado.iostream import IOStream

from wave_jupyter import serverext
from wave_jupyter.security import new_secret
from wave_jupyter.serverext.nodelay import SETTING, NoDelay
from wave_jupyter.serverext.redact import redact


def serverapp(connection_class: type) -> types.SimpleNamespace:
    return types.SimpleNamespace(web_app=types.SimpleNamespace(settings={SETTING: connection_class}),
                                 log=logging.getLogger('test_serverext'))


def test_the_configured_connection_class_is_wrapped_once():
    app = serverapp(ZMQChannelsWebsocketConnection)
    serverext._load_jupyter_server_extension(app)
    wrapped = app.web_app.settings[SETTING]
    assert issubclass(wrapped, ZMQChannelsWebsocketConnection) and wrapped is not ZMQChannelsWebsocketConnection
    serverext._load_jupyter_server_extension(app)  # loaded twice (two configs): not wrapped twice
    assert app.web_app.settings[SETTING] is wrapped


def test_connecting_turns_nagle_off_on_the_real_socket():
    class Connection:  # what the server's class does on connect, reduced to the part that matters here
        async def connect(self) -> str:
            return 'connected'

    async def main() -> tuple[str, int]:
        listener = socket.socket()
        listener.bind(('127.0.0.1', 0))
        listener.listen()
        client = socket.create_connection(listener.getsockname())
        server_side, _ = listener.accept()
        stream = IOStream(server_side)
        handler = types.SimpleNamespace(set_nodelay=stream.set_nodelay)
        wrapped = type('C', (NoDelay, Connection), {})()
        wrapped.websocket_handler = handler
        before = server_side.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert before == 0
        result = await wrapped.connect()
        nodelay = server_side.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        stream.close()
        client.close()
        listener.close()
        return result, nodelay

    with ThreadPoolExecutor(1) as pool:  # a loop of its own (a browser test may leave one running on this thread)
        result, nodelay = pool.submit(asyncio.run, main()).result()
    assert result == 'connected' and nodelay != 0


def test_the_page_ignores_kernel_status_around_comm_messages_only():
    app = serverapp(ZMQChannelsWebsocketConnection)
    app.web_app.settings['page_config_hook'] = lambda handler, config: {**config, 'other': 1}  # another extension's
    serverext._load_jupyter_server_extension(app)
    serverext._load_jupyter_server_extension(app)
    hook = app.web_app.settings['page_config_hook']
    config = hook(None, {'untracked_message_types': ['kernel_info_request', 'status']})
    assert config == {'untracked_message_types': ['kernel_info_request', 'status', 'comm_msg'], 'other': 1}
    assert hook(None, {})['untracked_message_types'] == ['comm_msg']


def test_secrets_in_proxied_and_loopback_urls_are_redacted():
    secret = new_secret()
    lines = {
        f'Trying to establish websocket connection to ws://127.0.0.1:5/{secret}/_s/':
            'Trying to establish websocket connection to ws://127.0.0.1:5/<secret>/_s/',
        f'Trying to establish websocket connection to ws://localhost:5/{secret}/_s/?client-id=x':
            'Trying to establish websocket connection to ws://localhost:5/<secret>/_s/?client-id=x',
        f'404 GET /user/ann/proxy/127.0.0.1:5/{secret}/demo (127.0.0.1) 2ms':
            '404 GET /user/ann/proxy/127.0.0.1:5/<secret>/demo (127.0.0.1) 2ms',
        f'404 GET /proxy/5/{secret}/wave-static/x.js?v=1': '404 GET /proxy/5/<secret>/wave-static/x.js?v=1',
        f'/proxy/absolute/127.0.0.1:5/wave/{secret}': '/proxy/absolute/127.0.0.1:5/wave/<secret>',
        f'GET /lab/tree/{secret}.ipynb': f'GET /lab/tree/{secret}.ipynb',  # not a proxied path: untouched
        'GET /proxy/5/demo/short': 'GET /proxy/5/demo/short',
    }
    for line, clean in lines.items():
        assert redact(line) == clean


def test_the_servers_log_handlers_redact_every_record(caplog):
    app = serverapp(ZMQChannelsWebsocketConnection)
    handler = logging.StreamHandler()
    app.log.addHandler(handler)
    try:
        serverext._load_jupyter_server_extension(app)
        url = 'ws://127.0.0.1:9/' + 'a' * 32 + '/_s/'
        record = logging.LogRecord('ServerApp', logging.INFO, __file__, 1, 'to %s', (url,), None)
        assert all(f.filter(record) for f in handler.filters)
        assert record.getMessage() == 'to ws://127.0.0.1:9/<secret>/_s/'
    finally:
        app.log.removeHandler(handler)
