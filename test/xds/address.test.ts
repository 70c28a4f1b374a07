import { strict as assert } from 'node:assert';
import { formatXdsAddress, parseXdsAddress } from '../../src/xds/address';

describe('xds/address', () => {
  it('parses every accepted form and formats it back', () => {
    const cases: [string, ReturnType<typeof parseXdsAddress>, string][] = [
      ['127.0.0.1:18000', { kind: 'tcp', host: '127.0.0.1', port: 18000 }, '127.0.0.1:18000'],
      ['[::1]:18000', { kind: 'tcp', host: '::1', port: 18000 }, '[::1]:18000'],
      ['meshd.internal:0', { kind: 'tcp', host: 'meshd.internal', port: 0 }, 'meshd.internal:0'],
      ['unix:/run/x.sock', { kind: 'unix', path: '/run/x.sock' }, 'unix:/run/x.sock'],
      ['unix:///run/x.sock', { kind: 'unix', path: '/run/x.sock' }, 'unix:/run/x.sock'],
    ];
    for (const [text, parsed, formatted] of cases) {
      assert.deepEqual(parseXdsAddress(text), parsed);
      assert.equal(formatXdsAddress(parsed), formatted);
    }
  });

  it('refuses what is not an address, saying what is expected', () => {
    assert.throws(() => parseXdsAddress('localhost'), /expected HOST:PORT, \[IPV6\]:PORT or unix:PATH/);
    assert.throws(() => parseXdsAddress('h:70000'), /port 70000 is out of range/);
    assert.throws(() => parseXdsAddress('unix:'), /unix socket path is empty/);
  });
});
