import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { Switchboard } from '../src/web/switchboard.js';

/** A channel that records what was sent, and lets a test answer. */
function channel() {
  const sent = [];
  let handler = null;
  return {
    sent,
    send: (message, buffers) => sent.push([message, buffers]),
    listen: (h) => {
      handler = h;
      return () => (handler = null);
    },
    answer: (message, buffers = []) => handler && handler(message, buffers),
    get listening() {
      return handler !== null;
    },
  };
}

/** A frame's end of the port: what it got. */
function frameEnd() {
  const { port1, port2 } = new MessageChannel();
  const got = [];
  port2.onmessage = (event) => got.push(event.data);
  return { port: port1, other: port2, got };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('Switchboard', () => {
  it("relays a socket's life between the frame and the channel, with the state it implies", async () => {
    const ch = channel();
    const states = [];
    const board = new Switchboard(ch, { onState: (s) => states.push(s), rebuild: () => {}, cache: null });
    const frame = frameEnd();
    board.attach(frame.port);
    board.fromFrame({ t: 'open', sid: 'a', client: null });
    board.fromFrame({ t: 'frame', sid: 'a', data: '+ /demo ' });
    await ch.answer({ t: 'frame', sid: 'a', data: '{"d":[]}' });
    await ch.answer({ t: 'close', sid: 'a' });
    await settle();
    assert.deepEqual(ch.sent.map(([m]) => m.t), ['open', 'frame']);
    assert.deepEqual(frame.got, [{ t: 'opened', sid: 'a' }, { t: 'frame', sid: 'a', data: '{"d":[]}' }, { t: 'close', sid: 'a' }]);
    assert.deepEqual(states, ['live', 'reconnecting']);
    board.destroy();
    frame.other.close();
  });

  it("sends an http request's body as a buffer and hands the answer's back to the frame", async () => {
    const ch = channel();
    const board = new Switchboard(ch, { onState: () => {}, rebuild: () => {}, cache: null });
    const frame = frameEnd();
    board.attach(frame.port);
    const body = new TextEncoder().encode('hi').buffer;
    board.fromFrame({ t: 'http', id: 1, method: 'POST', path: '_f/', headers: {}, body });
    assert.deepEqual(ch.sent[0][0], { t: 'http', id: 1, method: 'POST', path: '_f/', headers: {} });
    assert.equal(ch.sent[0][1][0].byteLength, 2);
    await ch.answer({ t: 'http', id: 1, status: 200 }, [new Uint8Array([1, 2, 3])]);
    await settle();
    assert.equal(frame.got[0].status, 200);
    assert.deepEqual([...new Uint8Array(frame.got[0].body)], [1, 2, 3]);
    board.destroy();
    frame.other.close();
  });

  it('asks the channel for the UI files it does not have and hands them all to the frame', async () => {
    const ch = channel();
    const board = new Switchboard(ch, { onState: () => {}, rebuild: () => {}, cache: null });
    const frame = frameEnd();
    board.attach(frame.port);
    const loading = board.fromChannel({ t: 'ui', version: '1', index: '<html>', names: ['a.js', 'b.css'] }, []);
    await settle();
    assert.deepEqual(ch.sent.at(-1)[0], { t: 'assets', names: ['a.js', 'b.css'] });
    await board.fromChannel({ t: 'assets', names: ['a.js'] }, [new Uint8Array([1])]);
    await board.fromChannel({ t: 'assets', names: ['b.css'], last: true }, [new Uint8Array([2])]);
    await loading;
    await settle();
    assert.equal(frame.got[0].t, 'ui');
    assert.deepEqual(frame.got[0].files.map(([n]) => n), ['a.js', 'b.css']);
    board.destroy();
    frame.other.close();
  });

  it('closes its sockets when the frame is detached (the frame navigated away), and stops listening', () => {
    const ch = channel();
    const board = new Switchboard(ch, { onState: () => {}, rebuild: () => {}, cache: null });
    const frame = frameEnd();
    board.attach(frame.port);
    board.fromFrame({ t: 'open', sid: 'a', client: null });
    board.detach();
    assert.deepEqual(ch.sent.at(-1)[0], { t: 'close', sid: 'a' });
    board.fromFrame({ t: 'frame', sid: 'a', data: 'late' });
    assert.equal(board.port, null);
    board.destroy();
    assert.equal(ch.listening, false);
    frame.other.close();
  });

  it('rebuilds the frame when the kernel asks for a reload', async () => {
    let rebuilt = 0;
    const board = new Switchboard(channel(), { onState: () => {}, rebuild: () => rebuilt++, cache: null });
    await board.fromChannel({ t: 'reload' }, []);
    assert.equal(rebuilt, 1);
    board.destroy();
  });
});
