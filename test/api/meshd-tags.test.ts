import { strict as assert } from 'node:assert';
import { hasMeshdSettings, withMeshdTags, withoutMeshdTags } from '../../src/api/meshd-tags';

describe('api/meshd-tags', () => {
  it('turns meshd:* tags into meshd settings, typed, leaving other tags alone', () => {
    assert.deepEqual(withMeshdTags(undefined, [{ key: 'meshd:proxyless', value: 'true' }, { key: 'meshd:ingressPort', value: '15100' }, { key: 'meshd:address', value: '127.0.0.1' }, { key: 'team', value: 'x' }]),
      { proxyless: true, ingressPort: 15100, address: '127.0.0.1' });
    assert.deepEqual(withMeshdTags({ adminPort: 9901 }, [{ key: 'meshd:adminPort', value: '9911' }]), { adminPort: 9911 });
    assert.equal(withMeshdTags(undefined, [{ key: 'team', value: 'x' }]), undefined);
  });

  it('removes the settings whose tags are removed', () => {
    assert.deepEqual(withoutMeshdTags({ proxyless: true, adminPort: 1 }, ['meshd:proxyless', 'team']), { adminPort: 1 });
    assert.equal(withoutMeshdTags({ proxyless: true }, ['meshd:proxyless']), undefined);
  });

  it('applies to virtual nodes and gateways only', () => {
    assert.deepEqual(['VirtualNode', 'VirtualGateway', 'Route', 'Mesh'].map(hasMeshdSettings), [true, true, false, false]);
  });
});
