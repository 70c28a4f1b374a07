import { strict as assert } from 'node:assert';
import { parseCertsJson } from '../../src/verify/certs';
import { CAPTURED_AT, fixture } from './fixtures';

describe('verify/certs', () => {
  it('reads serials, SANs and days to expiry, merging the contexts that share a certificate', () => {
    const certs = parseCertsJson(fixture('healthy.certs.json'), CAPTURED_AT);
    assert.equal(certs.length, 2);
    const [ca, leaf] = certs;
    assert.equal(ca!.role, 'ca');
    assert.equal(ca!.serial, '1b4e9f07c2a35d6e8f90a1b2c3d4e5f6');
    assert.equal(ca!.daysUntilExpiry, 3583);
    assert.equal(ca!.contexts, 2);
    assert.equal(leaf!.role, 'chain');
    assert.equal(leaf!.path, '<inline>');
    assert.deepEqual(leaf!.sans, ['URI:spiffe://colorapp.meshd.local/mesh/colorapp/virtualNode/front', 'DNS:front.colorapp.local']);
    assert.equal(leaf!.daysUntilExpiry, 80);
    assert.equal(leaf!.lifetimeMs, 90 * 86_400_000);
  });

  it('accepts days_until_expiration printed as a number, IP SANs and empty contexts', () => {
    const certs = parseCertsJson(fixture('expiring.certs.json'), CAPTURED_AT);
    const leaf = certs.find((c) => c.role === 'chain')!;
    assert.equal(leaf.serial, '2f9e8d7c6b5a4938');
    assert.deepEqual(leaf.sans, ['DNS:front.colorapp.local', 'IP:10.0.3.17']);
    assert.equal(leaf.daysUntilExpiry, 3);
    assert.equal(leaf.remainingMs, 3.5 * 86_400_000);
  });

  it('falls back on days_until_expiration, string or number, when no expiration_time is printed', () => {
    for (const days of ['12', 12]) {
      const [cert] = parseCertsJson(JSON.stringify({ certificates: [{ cert_chain: [{ path: '/c.pem', serial_number: 'ab', days_until_expiration: days }] }] }), CAPTURED_AT);
      assert.equal(cert!.daysUntilExpiry, 12);
      assert.equal(cert!.lifetimeMs, undefined);
    }
  });

  it('names the place of anything not in Envoy shape', () => {
    assert.throws(() => parseCertsJson('{"certificates": [', CAPTURED_AT), /not JSON/);
    assert.throws(
      () => parseCertsJson('{"certificates":[{"cert_chain":[{"serial_number":"ab","days_until_expiration":"1","subject_alt_names":[{"email":"a@b"}]}]}]}', CAPTURED_AT),
      /certificates\[0\]\.cert_chain\[0\]\.subject_alt_names\[0\]: expected/,
    );
    assert.throws(
      () => parseCertsJson('{"certificates":[{"ca_cert":[{"serial_number":"ab","expiration_time":"soon"}]}]}', CAPTURED_AT),
      /certificates\[0\]\.ca_cert\[0\]\.expiration_time: "soon" is not a timestamp/,
    );
    assert.throws(() => parseCertsJson('{"certificates":[{"ca_cert":[{"serial_number":"ab"}]}]}', CAPTURED_AT), /neither expiration_time nor days_until_expiration/);
  });
});
