"""``q.site`` against this server: uploads, downloads, unload, upload_dir, load, cache, page drop."""

from __future__ import annotations

from pathlib import Path

import pytest
from h2o_wave import ui
from h2o_wave.core import ServiceError
from support import request

from wave_jupyter import AsyncSite, Site


def test_upload_download_unload_roundtrip(wave, tmp_path):
    site = AsyncSite(wave.server)
    src = tmp_path / 'data.csv'
    src.write_text('a,b\n1,2\n')
    (url,) = wave.call(site.upload, [str(src)])
    assert url.startswith('/_f/') and url.endswith('/data.csv')
    assert request(wave.server, 'GET', url)[2] == b'a,b\n1,2\n'
    out = tmp_path / 'out'
    out.mkdir()
    path = wave.call(site.download, url, str(out))
    assert Path(path).read_text() == 'a,b\n1,2\n' and path.endswith('/out/data.csv')
    wave.call(site.unload, url)
    assert request(wave.server, 'GET', url)[0] == 404
    with pytest.raises(ServiceError):
        wave.call(site.download, '/elsewhere/x', str(out))


def test_upload_dir_keeps_the_tree(wave, tmp_path):
    (tmp_path / 'd' / 'sub').mkdir(parents=True)
    (tmp_path / 'd' / 'sub' / 'x.txt').write_text('x')
    (url,) = wave.call(AsyncSite(wave.server).upload_dir, str(tmp_path / 'd'))
    assert request(wave.server, 'GET', f'{url}/sub/x.txt')[2] == b'x'


def test_load_returns_the_stored_page_and_drop_empties_it(wave):
    site = Site(wave.server)
    page = site['/p']
    page['c'] = ui.markdown_card(box='1 1 1 1', title='T', content='v')
    page.save()
    assert wave.call(lambda: site.load('/p')) == {'p': {'c': {'c': {'d': {
        'view': 'markdown', 'box': '1 1 1 1', 'title': 'T', 'content': 'v'}}}}}
    del site['/p']
    assert wave.call(lambda: site.load('/p')) == {'p': {'c': {}}}
    with pytest.raises(ServiceError, match='404'):
        site.load('/never')


def test_cache_set_get_keys(wave):
    cache = AsyncSite(wave.server).cache
    wave.call(cache.set, 'shard', 'k', {'v': 1})
    assert wave.call(cache.get, 'shard', 'k') == {'v': 1}
    assert wave.call(cache.keys, 'shard') == ['k']
    assert Site(wave.server).cache.get('shard', 'missing', 'dflt') == 'dflt'
