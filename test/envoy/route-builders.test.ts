import { strict as assert } from 'node:assert';
import { durationOf, grpcRouteMatch, headerMatcher, retryPolicy, routeAction } from '../../src/envoy/route';
import type { HeaderMatch } from '../../src/model/types';
import { validateMessage } from '../../src/xds/pgv';
import { messageType } from '../../src/xds/protos';

describe('envoy/route builders', () => {
  const durations: [Parameters<typeof durationOf>[0], object][] = [
    [{ unit: 's', value: 15 }, { seconds: 15, nanos: 0 }],
    [{ unit: 'ms', value: 1500 }, { seconds: 1, nanos: 500_000_000 }],
    [{ unit: 'ms', value: 0 }, { seconds: 0, nanos: 0 }],
  ];
  for (const [input, expected] of durations) it(`duration ${input.value}${input.unit}`, () => assert.deepEqual(durationOf(input), expected));

  const headers: [HeaderMatch, object][] = [
    [{ name: 'x', match: { exact: 'v' } }, { name: 'x', stringMatch: { exact: 'v' } }],
    [{ name: 'x', match: { regex: '^v[0-9]$' } }, { name: 'x', stringMatch: { safeRegex: { regex: '^v[0-9]$' } } }],
    [{ name: 'x', match: { range: { start: 1, end: 5 } } }, { name: 'x', rangeMatch: { start: 1, end: 5 } }],
    [{ name: 'x', invert: true, match: { suffix: '-beta' } }, { name: 'x', stringMatch: { suffix: '-beta' }, invertMatch: true }],
    [{ name: 'x' }, { name: 'x', presentMatch: true }],
  ];
  for (const [input, expected] of headers) {
    it(`header match ${JSON.stringify(input)}`, () => {
      const matcher = headerMatcher(input);
      assert.deepEqual(matcher, expected);
      assert.deepEqual(validateMessage(messageType('envoy.config.route.v3.HeaderMatcher'), matcher), []);
    });
  }

  it('maps retry events to Envoy retry_on, and retries on nothing to no policy', () => {
    assert.equal(retryPolicy({ maxRetries: 1, perRetryTimeout: { unit: 's', value: 1 }, httpRetryEvents: ['client-error', 'stream-error'] })!.retryOn, 'refused-stream,retriable-4xx');
    assert.equal(retryPolicy({ maxRetries: 1, perRetryTimeout: { unit: 's', value: 1 } }), undefined);
  });

  it('prefixes by gRPC service when no method is given', () => {
    assert.deepEqual(grpcRouteMatch({ serviceName: 'pkg.Svc' }), { prefix: '/pkg.Svc/', grpc: {} });
    assert.deepEqual(grpcRouteMatch({}), { prefix: '/', grpc: {} });
  });

  it('sends to one cluster directly and to several by weight', () => {
    assert.deepEqual(routeAction([{ name: 'a', weight: 100 }]), { cluster: 'a' });
    const weighted = routeAction([{ name: 'a', weight: 0 }, { name: 'b', weight: 100 }], { prefixRewrite: '/' });
    assert.deepEqual(weighted, { weightedClusters: { clusters: [{ name: 'a', weight: { value: 0 } }, { name: 'b', weight: { value: 100 } }] }, prefixRewrite: '/' });
    assert.deepEqual(validateMessage(messageType('envoy.config.route.v3.RouteAction'), weighted), []);
  });
});
