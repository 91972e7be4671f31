import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { FIT_MAX, FIT_MIN, FIT_PAD, FIT_START, bodyHeight } from '../src/web/sizing.js';

describe('bodyHeight', () => {
  it('fits the app within bounds, from a start height until it reports', () => {
    assert.deepEqual(bodyHeight(-1, null), { fill: false, px: FIT_START, mode: 'fit' });
    assert.equal(bodyHeight(-1, 400).px, 400 + FIT_PAD);
    assert.equal(bodyHeight(-1, 10).px, FIT_MIN);
    assert.equal(bodyHeight(-1, 99999).px, FIT_MAX);
  });

  it('keeps a fixed height and fills a panel', () => {
    assert.deepEqual(bodyHeight(250, 900), { fill: false, px: 250, mode: 'fixed' });
    assert.deepEqual(bodyHeight(0, 900), { fill: true, px: null, mode: 'fill' });
  });
});
