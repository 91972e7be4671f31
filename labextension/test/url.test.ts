import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { appUrl, basePath, isLoopback } from '../src/url';

const local = { protocol: 'http:', hostname: '127.0.0.1' };

describe('appUrl', () => {
  it('goes straight to loopback for a local notebook at /', () => {
    assert.equal(appUrl(local, '/', 10101, '/demo', 'abc', 'auto'), 'http://127.0.0.1:10101/abc/demo');
    assert.equal(
      appUrl({ protocol: 'http:', hostname: 'localhost' }, '/', 8, '/demo', 't', 'auto'),
      'http://localhost:8/t/demo'
    );
  });

  it('keeps the bracketed IPv6 loopback host', () => {
    assert.equal(
      appUrl({ protocol: 'http:', hostname: '[::1]' }, '/', 9, '/a', 't', 'auto'),
      'http://[::1]:9/t/a'
    );
    assert.equal(appUrl({ protocol: 'http:', hostname: '::1' }, '/', 9, '/a', 't', 'auto'), 'http://[::1]:9/t/a');
  });

  it('encodes the token', () => {
    assert.equal(appUrl(local, '/', 1, '/x', 'a b&c=d/+', 'direct'), 'http://127.0.0.1:1/a%20b%26c%3Dd%2F%2B/x');
    assert.equal(appUrl(local, '/', 1, '/x', 'a&b', 'proxy'), '/proxy/1/a%26b/x');
  });

  it('uses the proxy behind a base URL', () => {
    assert.equal(
      appUrl(local, '/user/ann/', 10101, '/demo', 'abc', 'auto'),
      '/user/ann/proxy/10101/abc/demo'
    );
  });

  it('uses the proxy for a remote host or https', () => {
    assert.equal(
      appUrl({ protocol: 'http:', hostname: 'lab.example.org' }, '/', 10101, '/demo', 'abc', 'auto'),
      '/proxy/10101/abc/demo'
    );
    assert.equal(
      appUrl({ protocol: 'https:', hostname: 'localhost' }, '/', 10101, '/demo', 'abc', 'auto'),
      '/proxy/10101/abc/demo'
    );
  });

  it('obeys an explicit mode', () => {
    assert.equal(appUrl(local, '/', 10101, '/demo', 'abc', 'proxy'), '/proxy/10101/abc/demo');
    assert.equal(
      appUrl({ protocol: 'https:', hostname: 'lab.example.org' }, '/hub/', 10101, '/demo', 'abc', 'direct'),
      'http://lab.example.org:10101/abc/demo'
    );
  });

  it('takes the absolute base URL that PageConfig.getBaseUrl() gives', () => {
    assert.equal(
      appUrl(local, 'http://127.0.0.1:8888/', 10101, '/demo', 'abc', 'auto'),
      'http://127.0.0.1:10101/abc/demo'
    );
    assert.equal(
      appUrl(local, 'http://127.0.0.1:8888/user/ann/', 10101, '/demo', 'abc', 'auto'),
      'http://127.0.0.1:8888/user/ann/proxy/10101/abc/demo'
    );
    assert.equal(
      appUrl({ protocol: 'https:', hostname: 'hub.example.org' }, 'https://hub.example.org/', 7, '/d', 't', 'auto'),
      'https://hub.example.org/proxy/7/t/d'
    );
  });

  it('adds a missing slash to the route and the base URL', () => {
    assert.equal(appUrl(local, '/', 5, 'demo', 't', 'direct'), 'http://127.0.0.1:5/t/demo');
    assert.equal(appUrl(local, '/base', 5, '/demo', 't', 'auto'), '/base/proxy/5/t/demo');
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

describe('appUrl without a token', () => {
  it('gives no URL until the kernel sent the secret', () => {
    assert.equal(appUrl(local, '/', 10101, '/demo', '', 'auto'), '');
  });
});
