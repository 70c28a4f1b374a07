import { strict as assert } from 'node:assert';
import { ViewChanges, type ViewChangeReason } from '../../src/admin/view-changes';
import { StreamRegistry } from '../../src/admin/stream-registry';
import type { StreamInfo } from '../../src/server/observer';
import { TypeUrl } from '../../src/xds/type-urls';

describe('admin/view-changes', () => {
  it('tells every listener, past one that throws, until it unsubscribes', () => {
    const changes = new ViewChanges();
    const heard: ViewChangeReason[] = [];
    changes.subscribe(() => { throw new Error('broken listener'); });
    const stop = changes.subscribe((reason) => heard.push(reason));
    changes.signal('spec');
    changes.signal('certificate');
    stop();
    changes.signal('proxy');
    assert.deepEqual(heard, ['spec', 'certificate']);
  });

  it('is raised by the stream registry on open, send, ACK, NACK and close', () => {
    const registry = new StreamRegistry();
    let count = 0;
    registry.onChange(() => { count += 1; });
    const info: StreamInfo = { id: 1, service: 'ADS', flavor: 'sotw', peer: 'ipv4:127.0.0.1:1', node: { id: 'mesh/m/virtualNode/a', cluster: '', userAgentName: 'envoy' } as StreamInfo['node'], nodeKey: 'mesh/m/virtualNode/a', connectedAt: new Date() };
    registry.streamOpened(info);
    registry.responseSent(info, TypeUrl.Cluster, 'v1', 'n1', 1);
    registry.ackReceived(info, TypeUrl.Cluster, 'v1', 'n1');
    registry.responseSent(info, TypeUrl.Cluster, 'v2', 'n2', 1);
    registry.nackReceived(info, TypeUrl.Cluster, 'v1', 'n2', 'no');
    registry.streamClosed(info);
    assert.equal(count, 6);
  });
});
