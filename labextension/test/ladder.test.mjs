import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { httpRung, isLoopback, jupyterBase, reachable, rungOf } from '../src/web/ladder.js';

const where = { direct: 'http://127.0.0.1:5/s/demo', proxy: 'proxy/127.0.0.1:5/s/demo' };
const local = { protocol: 'http:', hostname: 'localhost' };
const remote = { protocol: 'https:', hostname: 'hub.example.org' };

/** A probe that answers for the URLs in `up`, and records what it was asked. */
function probe(...up) {
  const asked = [];
  const fn = async (url, mode) => {
    asked.push([url, mode]);
    return up.includes(url);
  };
  fn.asked = asked;
  return fn;
}

describe('httpRung', () => {
  it('takes the direct URL for a local page when loopback answers (by IP, never by the page name)', async () => {
    const p = probe('http://127.0.0.1:5/s/favicon.ico');
    assert.equal(await httpRung('auto', where, local, '/', p), where.direct);
    assert.deepEqual(p.asked, [['http://127.0.0.1:5/s/favicon.ico', 'no-cors']]);
  });

  it('falls to the proxy under the Jupyter base URL, then to the comm', async () => {
    const p = probe('/user/ann/proxy/127.0.0.1:5/s/favicon.ico');
    assert.equal(await httpRung('auto', where, local, '/user/ann/', p), '/user/ann/proxy/127.0.0.1:5/s/demo');
    assert.equal(await httpRung('auto', where, local, '/user/ann/', probe()), null);
  });

  it('never probes loopback from a remote or https page', async () => {
    const p = probe();
    assert.equal(await httpRung('auto', where, remote, 'https://hub.example.org/user/ann', p), null);
    assert.deepEqual(p.asked, [['https://hub.example.org/user/ann/proxy/127.0.0.1:5/s/favicon.ico', 'same-origin']]);
  });

  it('has no proxy where the page has no Jupyter base URL (VS Code, Colab)', async () => {
    assert.equal(await httpRung('auto', where, remote, null, probe()), null);
    assert.equal(await httpRung('proxy', where, remote, null, probe()), null);
  });

  it('obeys a pinned rung without probing', async () => {
    const p = probe();
    assert.equal(await httpRung('direct', where, remote, null, p), where.direct);
    assert.equal(await httpRung('proxy', where, local, '/', p), '/proxy/127.0.0.1:5/s/demo');
    assert.equal(await httpRung('comm', where, local, '/', p), null);
    assert.deepEqual(p.asked, []);
  });

  it('uses the comm while the kernel has said nothing, or has no port', async () => {
    assert.equal(await httpRung('auto', null, local, '/', probe()), null);
    assert.equal(await httpRung('direct', { direct: '', proxy: '' }, local, '/', probe()), null);
  });

  it('names the rung of a URL', () => {
    assert.equal(rungOf(null), 'comm');
    assert.equal(rungOf(where.direct), 'direct');
    assert.equal(rungOf('/user/ann/proxy/127.0.0.1:5/s/demo'), 'proxy');
  });
});

/** The bits of a document jupyterBase reads. */
const doc = (config, bodyBase) => ({
  getElementById: (id) => (id === 'jupyter-config-data' && config !== undefined ? { textContent: config } : null),
  body: { dataset: bodyBase === undefined ? {} : { baseUrl: bodyBase } },
});

describe('jupyterBase', () => {
  it("reads JupyterLab's and Notebook 7's page config", () => {
    assert.equal(jupyterBase(doc(JSON.stringify({ baseUrl: '/user/ann/' }))), '/user/ann/');
  });

  it("reads nbclassic's and Voila's body attribute", () => {
    assert.equal(jupyterBase(doc(undefined, '/user/ann/')), '/user/ann/');
    assert.equal(jupyterBase(doc('not json', '/x/')), '/x/');
  });

  it('is null on a page of no Jupyter server', () => {
    assert.equal(jupyterBase(doc()), null);
    assert.equal(jupyterBase(doc(JSON.stringify({}))), null);
  });
});

describe('isLoopback', () => {
  it('knows the loopback names', () => {
    for (const name of ['localhost', '127.0.0.1', '::1', '[::1]', 'LOCALHOST']) assert.ok(isLoopback(name), name);
    for (const name of ['example.org', '127.0.0.2', '']) assert.ok(!isLoopback(name), name);
  });
});

describe('reachable', () => {
  /** Runs `reachable` against a fetch that answers `response`, and returns [result, the fetch's options]. */
  async function probeWith(response, mode) {
    const original = globalThis.fetch;
    let options;
    globalThis.fetch = async (url, init) => {
      options = init;
      return response;
    };
    try {
      return [await reachable('/user/x/proxy/127.0.0.1:5/s/favicon.ico', mode), options];
    } finally {
      globalThis.fetch = original;
    }
  }

  it("asks the proxy with the page's cookies (as the frame will), loopback with none", async () => {
    assert.equal((await probeWith({ ok: true, redirected: false }, 'same-origin'))[1].credentials, 'same-origin');
    assert.equal((await probeWith({ ok: false, type: 'opaque' }, 'no-cors'))[1].credentials, 'omit');
  });

  it("does not take a proxy's login page (a redirect) for the app", async () => {
    assert.equal((await probeWith({ ok: true, redirected: true }, 'same-origin'))[0], false);
    assert.equal((await probeWith({ ok: false, redirected: false }, 'same-origin'))[0], false);
    assert.equal((await probeWith({ ok: true, redirected: false }, 'same-origin'))[0], true);
    assert.equal((await probeWith({ ok: false, type: 'opaque' }, 'no-cors'))[0], true);
  });
});
