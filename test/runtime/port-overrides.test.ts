import { strict as assert } from 'node:assert';
import * as grpc from '@grpc/grpc-js';
import { SnapshotCache } from '../../src/cache/snapshot-cache';
import { SnapshotPublisher } from '../../src/cache/publisher';
import type { Snapshot } from '../../src/cache/snapshot';
import { trustNodeIdClaims } from '../../src/auth/node-id-claims';
import { StatusError } from '../../src/xds/status-error';
import {
  EGRESS_PORT_METADATA, INGRESS_PORT_METADATA, PortVariantWatcher, portOverridesOf, variantKey, withPortOverrides, type PortOverrides,
} from '../../src/runtime/port-overrides';
import { basicSnapshot } from '../support/fixtures';

const BASE = 'mesh/demo/virtualNode/front';

describe('runtime/port-overrides', () => {
  it('reads ports from node.metadata as numbers or strings, and nothing when absent', () => {
    assert.equal(portOverridesOf(undefined), undefined);
    assert.equal(portOverridesOf({ other: 1 }), undefined);
    assert.deepEqual(portOverridesOf({ [INGRESS_PORT_METADATA]: 15100 }), { ingressPort: 15100 });
    assert.deepEqual(portOverridesOf({ [INGRESS_PORT_METADATA]: '15100', [EGRESS_PORT_METADATA]: 15101 }), { ingressPort: 15100, egressPort: 15101 });
  });

  it('refuses a port that is not 1-65535 with INVALID_ARGUMENT naming the metadata key', () => {
    for (const bad of [0, 70000, 'x', 1.5, -1]) {
      assert.throws(() => portOverridesOf({ [EGRESS_PORT_METADATA]: bad }), (err: unknown) =>
        err instanceof StatusError && err.code === grpc.status.INVALID_ARGUMENT && err.message.includes(EGRESS_PORT_METADATA));
    }
  });

  it('keys a proxy with overrides to its variant and leaves others on the base key', () => {
    const identify = withPortOverrides(trustNodeIdClaims);
    const metadata = new grpc.Metadata();
    const plain = identify({ id: BASE, cluster: '', userAgentName: '' }, metadata);
    assert.equal(plain.key, BASE);
    const variant = identify({ id: BASE, cluster: '', userAgentName: '', metadata: { [INGRESS_PORT_METADATA]: 15100 } }, metadata);
    assert.equal(variant.key, variantKey(BASE, { ingressPort: 15100 }));
    assert.notEqual(variant.key, BASE);
  });

  it('derives a variant once per base snapshot and serves it to every watcher of that variant', () => {
    const cache = new SnapshotCache();
    const calls: { baseKey: string; overrides: PortOverrides }[] = [];
    const watcher = new PortVariantWatcher(new SnapshotPublisher(cache), (baseKey, overrides) => {
      calls.push({ baseKey, overrides });
      return basicSnapshot({ port: overrides.ingressPort ?? 15000 });
    });
    const key = variantKey(BASE, { ingressPort: 15100 });
    const seenA: Snapshot[] = [];
    const seenB: Snapshot[] = [];
    const cancelA = watcher.watch(key, (s) => seenA.push(s));
    assert.equal(calls.length, 0, 'nothing to derive before the base exists');
    cache.setSnapshot(BASE, basicSnapshot());
    watcher.watch(key, (s) => seenB.push(s));
    assert.equal(calls.length, 1, 'the second watcher reuses the derived variant');
    assert.deepEqual(calls[0], { baseKey: BASE, overrides: { ingressPort: 15100 } });
    assert.equal(seenA[0], seenB[0]);
    cache.setSnapshot(BASE, basicSnapshot({ clusters: ['a', 'b'] }));
    assert.equal(calls.length, 2, 'a new base snapshot is derived again (once for both watchers)');
    assert.equal(seenA.length, 2);
    assert.equal(seenB.length, 2);
    cancelA();
    const base: Snapshot[] = [];
    watcher.watch(BASE, (s) => base.push(s));
    assert.equal(base[0], cache.getSnapshot(BASE), 'a base key is served straight from the cache');
  });

  it('serves nothing for a variant the translation cannot build', () => {
    const cache = new SnapshotCache();
    const watcher = new PortVariantWatcher(new SnapshotPublisher(cache), () => undefined);
    const seen: Snapshot[] = [];
    watcher.watch(variantKey(BASE, { egressPort: 15101 }), (s) => seen.push(s));
    cache.setSnapshot(BASE, basicSnapshot());
    assert.deepEqual(seen, []);
  });

  // Issue 13: every snapshot a proxy is served passes the publishing checks, variants included.
  it('refuses a variant that breaks one of Envoy\'s field constraints, keeping the last good variant', () => {
    const cache = new SnapshotCache();
    const publisher = new SnapshotPublisher(cache);
    let port = 15100;
    const watcher = new PortVariantWatcher(publisher, () => basicSnapshot({ port }));
    const seen: Snapshot[] = [];
    watcher.watch(variantKey(BASE, { ingressPort: 15100 }), (s) => seen.push(s));
    cache.setSnapshot(BASE, basicSnapshot());
    assert.equal(seen.length, 1);
    const good = seen[0]!;
    // A translation bug puts the listener on a port no socket can have (PGV: port_value <= 65535).
    port = 70_000;
    cache.setSnapshot(BASE, basicSnapshot({ clusters: ['a'] }));
    assert.ok(seen.every((s) => s === good), 'the broken variant is never served');
    const late: Snapshot[] = [];
    watcher.watch(variantKey(BASE, { ingressPort: 15100 }), (s) => late.push(s));
    assert.deepEqual(late, [good], 'a proxy connecting now gets the last good variant');
  });
});
