import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { appUrl, basePath, isLoopback } from '../src/url';

const local = { protocol: 'http:', hostname: '127.0.0.1' };
// What the kernel sends (wave_jupyter/urls.py): never localhost, the proxy in its host:port form.
const urls = { direct: 'http://127.0.0.1:10101/abc/demo', proxy: 'proxy/127.0.0.1:10101/abc/demo' };

describe('appUrl', () => {
  it('goes straight to 127.0.0.1 for a local notebook at /, whatever name the page uses', () => {
    assert.equal(appUrl(local, '/', urls, 'auto'), 'http://127.0.0.1:10101/abc/demo');
    for (const hostname of ['localhost', '[::1]', '::1']) {
      assert.equal(appUrl({ protocol: 'http:', hostname }, '/', urls, 'auto'), 'http://127.0.0.1:10101/abc/demo');
    }
  });

  it('uses the proxy behind a base URL', () => {
    assert.equal(appUrl(local, '/user/ann/', urls, 'auto'), '/user/ann/proxy/127.0.0.1:10101/abc/demo');
  });

  it('uses the proxy for a remote host or https', () => {
    assert.equal(
      appUrl({ protocol: 'http:', hostname: 'lab.example.org' }, '/', urls, 'auto'),
      '/proxy/127.0.0.1:10101/abc/demo'
    );
    assert.equal(appUrl({ protocol: 'https:', hostname: 'localhost' }, '/', urls, 'auto'), '/proxy/127.0.0.1:10101/abc/demo');
  });

  it('obeys an explicit mode', () => {
    assert.equal(appUrl(local, '/', urls, 'proxy'), '/proxy/127.0.0.1:10101/abc/demo');
    assert.equal(
      appUrl({ protocol: 'https:', hostname: 'lab.example.org' }, '/hub/', urls, 'direct'),
      'http://127.0.0.1:10101/abc/demo'
    );
  });

  it('takes the absolute base URL that PageConfig.getBaseUrl() gives', () => {
    assert.equal(appUrl(local, 'http://127.0.0.1:8888/', urls, 'auto'), 'http://127.0.0.1:10101/abc/demo');
    assert.equal(
      appUrl(local, 'http://127.0.0.1:8888/user/ann/', urls, 'auto'),
      'http://127.0.0.1:8888/user/ann/proxy/127.0.0.1:10101/abc/demo'
    );
  });

  it('adds a missing slash to the base URL', () => {
    assert.equal(appUrl(local, '/base', urls, 'auto'), '/base/proxy/127.0.0.1:10101/abc/demo');
  });
});

describe('basePath', () => {
  it('keeps the path of an absolute base URL', () => {
    assert.equal(basePath('http://127.0.0.1:8888/'), '/');
    assert.equal(basePath('http://127.0.0.1:8888'), '/');
    assert.equal(basePath('https://hub.example.org/user/ann/'), '/user/ann/');
    assert.equal(basePath('/user/ann/'), '/user/ann/');
    assert.equal(basePath('/'), '/');
  });
});

describe('isLoopback', () => {
  it('knows the loopback names', () => {
    for (const name of ['localhost', '127.0.0.1', '::1', '[::1]', 'LOCALHOST']) {
      assert.ok(isLoopback(name), name);
    }
    for (const name of ['example.org', '10.0.0.1', '127.0.0.2.example.org', '']) {
      assert.ok(!isLoopback(name), name);
    }
  });
});

describe('appUrl before the kernel said where', () => {
  it('gives no URL', () => {
    assert.equal(appUrl(local, '/', { direct: '', proxy: '' }, 'auto'), '');
  });
});
