import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { IAppInfo, kernelState, newRoutes, parseApps, parseView, pickApp, previewView } from '../src/apps';

function app(route: string, extra: Partial<IAppInfo> = {}): IAppInfo {
  return { route, mode: 'unicast', port: 10101, direct: 'http://127.0.0.1:10101/t/', proxy: 'proxy/127.0.0.1:10101/t/', height: 400, generation: 1, clients: 0, instance: 'i1', ...extra };
}

describe('parseApps', () => {
  it('reads the snapshot the kernel sends', () => {
    const msg = {
      t: 'apps',
      apps: [{ route: '/demo', mode: 'multicast', port: 5, direct: 'd', proxy: 'p', height: 300, generation: 3, clients: 2, instance: 'a7' }]
    };
    assert.deepEqual(parseApps(msg), [
      app('/demo', { mode: 'multicast', port: 5, direct: 'd', proxy: 'p', height: 300, generation: 3, clients: 2, instance: 'a7' })
    ]);
    assert.deepEqual(parseApps({ t: 'apps', apps: [] }), []);
  });

  it('ignores other messages and drops malformed entries', () => {
    assert.equal(parseApps({ t: 'refresh' }), null);
    assert.equal(parseApps(null), null);
    assert.equal(parseApps({ t: 'apps' }), null);
    assert.deepEqual(parseApps({ t: 'apps', apps: [{ route: '/a' }, { port: 1 }, 'x', { route: '/b', port: 1.5 }] }), []);
    assert.deepEqual(parseApps({ t: 'apps', apps: [{ route: '/a', port: 7 }] }), [
      app('/a', { port: 7, direct: '', proxy: '', generation: 0, instance: '7/a' })
    ]);
  });
});

describe('parseView', () => {
  it("reads the kernel's answer to a view request", () => {
    const view = { model_id: 'm1', version_major: 2, version_minor: 1 };
    assert.deepEqual(parseView({ t: 'view', ref: 'r', view }), { ref: 'r', view });
    assert.deepEqual(parseView({ t: 'view', ref: 'r', view: null, error: 'no app at /x' }), { ref: 'r', view: null });
    assert.deepEqual(parseView({ t: 'view', ref: 'r', view: { model_id: '' } }), { ref: 'r', view: null });
  });

  it('ignores other messages', () => {
    assert.equal(parseView({ t: 'apps', apps: [] }), null);
    assert.equal(parseView({ t: 'view' }), null);
    assert.equal(parseView('view'), null);
  });
});

describe('pickApp', () => {
  const two = [app('/b'), app('/a')];

  it('takes the only app without asking', () => {
    assert.deepEqual(pickApp([app('/demo')]), { kind: 'app', app: app('/demo') });
  });

  it('takes the route asked for, or says it is not there', () => {
    assert.deepEqual(pickApp(two, '/a'), { kind: 'app', app: app('/a') });
    const none = pickApp(two, '/c');
    assert.equal(none.kind, 'none');
    assert.match((none as { reason: string }).reason, /\/c/);
  });

  it('asks among several, the preferred (latest) route first', () => {
    assert.deepEqual(pickApp(two), { kind: 'choose', routes: ['/a', '/b'] });
    assert.deepEqual(pickApp(two, undefined, '/b'), { kind: 'choose', routes: ['/b', '/a'] });
    assert.deepEqual(pickApp(two, undefined, '/gone'), { kind: 'choose', routes: ['/a', '/b'] });
  });

  it('says how to start an app when there is none', () => {
    const none = pickApp([]);
    assert.equal(none.kind, 'none');
    assert.match((none as { reason: string }).reason, /run the cell/);
  });
});

describe('newRoutes', () => {
  it('finds the apps that just started', () => {
    assert.deepEqual(newRoutes(new Set(['/a']), [app('/a'), app('/b')]), ['/b']);
    assert.deepEqual(newRoutes(new Set(), [app('/a')]), ['/a']);
    assert.deepEqual(newRoutes(new Set(['/a', '/b']), [app('/a')]), []);
  });

  it('takes nothing as new in the first snapshot of a running kernel', () => {
    assert.deepEqual(newRoutes(null, [app('/a')]), []);
  });
});

describe('kernelState', () => {
  it('maps the kernel statuses', () => {
    assert.equal(kernelState('idle'), 'idle');
    assert.equal(kernelState('busy'), 'busy');
    assert.equal(kernelState('restarting'), 'restarting');
    assert.equal(kernelState('autorestarting'), 'restarting');
    assert.equal(kernelState('dead'), 'dead');
    assert.equal(kernelState('starting'), 'unknown');
    assert.equal(kernelState(undefined), 'unknown');
  });
});

describe('previewView', () => {
  it('shows the frame while the app runs, busy kernel or not', () => {
    assert.deepEqual(previewView('/a', 'idle', app('/a'), false), { frame: true, warn: false, message: '', status: 'live' });
    const busy = previewView('/a', 'busy', app('/a'), false);
    assert.ok(busy.frame);
    assert.equal(busy.status, 'kernel busy');
  });

  it('says the kernel restarted, and to re-run the cell', () => {
    const lost = previewView('/a', 'idle', undefined, true);
    assert.ok(!lost.frame && lost.warn);
    assert.match(lost.message, /restarted.*re-run the cell/i);
    assert.equal(previewView('/a', 'restarting', app('/a'), false).frame, false);
  });

  it('says the kernel is dead', () => {
    const dead = previewView('/a', 'dead', undefined, true);
    assert.ok(!dead.frame && dead.warn);
    assert.match(dead.message, /dead/);
  });

  it('says when the app is not running (stopped, or not started yet)', () => {
    const idle = previewView('/a', 'idle', undefined, false);
    assert.ok(!idle.frame && !idle.warn);
    assert.match(idle.message, /not running/);
  });
});
