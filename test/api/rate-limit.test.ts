import { strict as assert } from 'node:assert';
import { RateLimiter } from '../../src/api/rate-limit';

describe('api/rate-limit', () => {
  it('allows a burst, then the sustained rate, per key', () => {
    let now = 0;
    const limiter = new RateLimiter({ perSecond: 2, burst: 3 }, () => now);
    assert.deepEqual([1, 2, 3, 4].map(() => limiter.take('a')), [true, true, true, false]);
    assert.equal(limiter.take('b'), true, 'another key has its own bucket');
    now += 500;
    assert.deepEqual([limiter.take('a'), limiter.take('a')], [true, false]);
    now += 10_000;
    assert.deepEqual([1, 2, 3, 4].map(() => limiter.take('a')), [true, true, true, false], 'idle time refills only up to the burst');
  });
});
