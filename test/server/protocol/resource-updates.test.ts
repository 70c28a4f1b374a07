// xds_protocol.rst, "Resource updates" and "When to send an update": "The management server
// should only send updates to the Envoy client when the resources in the DiscoveryResponse have
// changed." Checked on SDS SotW (the case that alternated versions: a stream asking for `default`
// and `ROOTCA` while another secret of the node came and went) and on ADS SotW's named types.
import { strict as assert } from 'node:assert';
import { Snapshot, type ResourceInput } from '../../../src/cache/snapshot';
import { TypeUrl } from '../../../src/xds/type-urls';
import { basicSnapshot, loadAssignment } from '../../support/fixtures';
import { NODE_KEY, useProtocolServer } from './harness';

function trust(name: string, ca: string): ResourceInput {
  return { name, message: { name, validationContext: { trustedCa: { inlineString: ca } } } };
}

function certificate(name: string, pem: string): ResourceInput {
  return { name, message: { name, tlsCertificate: { certificateChain: { inlineString: pem } } } };
}

/** The node's secrets: its own two, plus a trusted-CA secret that a spec may reference or not. */
function nodeSecrets(extra: boolean): Snapshot {
  return Snapshot.fromResources({
    [TypeUrl.Secret]: [
      certificate('default', 'leaf'),
      trust('ROOTCA', 'bundle'),
      ...(extra ? [trust('partner-ca', 'partner')] : []),
    ],
  });
}

describe('xDS protocol: resource updates (SDS SotW)', () => {
  const server = useProtocolServer();

  it('sends nothing when only secrets the stream did not ask for change', async () => {
    server.cache.setSnapshot(NODE_KEY, nodeSecrets(false));
    const stream = server.open('SDS SotW');
    stream.subscribe(TypeUrl.Secret, ['default', 'ROOTCA']);
    const first = await stream.next();
    assert.deepEqual(first.names.sort(), ['ROOTCA', 'default']);
    stream.ack(first);
    server.cache.setSnapshot(NODE_KEY, nodeSecrets(true));
    assert.ok(await stream.quiet(), 'a secret gaining a reference elsewhere is not an update for this stream');
    server.cache.setSnapshot(NODE_KEY, nodeSecrets(false));
    assert.ok(await stream.quiet(), 'nor is it losing one');
  });

  it('versions what the stream asked for: the same secrets carry the same version', async () => {
    server.cache.setSnapshot(NODE_KEY, nodeSecrets(true));
    const withExtra = server.open('SDS SotW');
    withExtra.subscribe(TypeUrl.Secret, ['default', 'ROOTCA']);
    const a = await withExtra.next();
    server.cache.setSnapshot(NODE_KEY, nodeSecrets(false));
    const without = server.open('SDS SotW');
    without.subscribe(TypeUrl.Secret, ['default', 'ROOTCA']);
    const b = await without.next();
    assert.equal(a.version, b.version);
  });

  it('still sends a change to a secret the stream asked for', async () => {
    server.cache.setSnapshot(NODE_KEY, nodeSecrets(false));
    const stream = server.open('SDS SotW');
    stream.subscribe(TypeUrl.Secret, ['default', 'ROOTCA']);
    const first = await stream.next();
    stream.ack(first);
    server.cache.setSnapshot(NODE_KEY, Snapshot.fromResources({ [TypeUrl.Secret]: [certificate('default', 'rotated leaf'), trust('ROOTCA', 'bundle')] }));
    const rotated = await stream.next();
    assert.notEqual(rotated.version, first.version);
    assert.deepEqual(rotated.names.sort(), ['ROOTCA', 'default']);
  });
});

describe('xDS protocol: resource updates (ADS SotW, named subscriptions)', () => {
  const server = useProtocolServer();

  it('sends nothing when only endpoints the stream did not ask for change', async () => {
    server.cache.setSnapshot(NODE_KEY, basicSnapshot({ clusters: ['a', 'b'] }));
    const stream = server.open('ADS SotW');
    stream.subscribe(TypeUrl.ClusterLoadAssignment, ['a']);
    const first = await stream.next();
    stream.ack(first);
    const moved = basicSnapshot({ clusters: ['a', 'b'] });
    const current = moved.get(TypeUrl.ClusterLoadAssignment)!;
    const bMoved = Snapshot.fromResources({
      [TypeUrl.ClusterLoadAssignment]: [loadAssignment('a', [{ address: '127.0.0.1', port: 9000 }]), loadAssignment('b', [{ address: '127.0.0.1', port: 9999 }])],
    }).get(TypeUrl.ClusterLoadAssignment)!;
    assert.notEqual(current.version, bMoved.version);
    server.cache.setSnapshot(NODE_KEY, moved.with(bMoved));
    assert.ok(await stream.quiet(), 'b moved, but this stream asked only for a');
  });
});
