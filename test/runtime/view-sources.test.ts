// The mesh view's facts and change signals from a running meshd (in process, on the demo mesh):
// issuing and rotating a leaf and a CA rollover each raise the signal, and the view shows the
// leaf's public facts and how many leaves have moved to the new CA.
import { strict as assert } from 'node:assert';
import type { ViewChangeReason } from '../../src/admin/view-changes';
import { useMeshd } from '../support/meshd';

const FRONT = 'mesh/colorapp/virtualNode/front';

describe('runtime/view-sources', function () {
  this.timeout(30_000);
  const fixture = useMeshd({ options: () => ({ admin: '127.0.0.1:0', rolloverGraceMs: 60_000 }) });

  it('signals leaves and rollovers, and the view shows their public facts and the rollover\'s progress', async () => {
    const { meshd } = fixture;
    const heard: ViewChangeReason[] = [];
    meshd.viewChanges.subscribe((reason) => heard.push(reason));
    const admin = meshd.adminServer!;
    const leaf = await meshd.certificates.get({ mesh: 'colorapp', kind: 'virtualNode', name: 'front', dnsNames: [] });
    assert.ok(heard.includes('certificate'));
    let view = admin.view();
    const front = view.endpoints.find((e) => e.id === FRONT)!;
    assert.deepEqual(front.certificate, { serial: leaf.serial, sans: [...leaf.sans.uris, ...leaf.sans.dnsNames], notBefore: leaf.notBefore.toISOString(), notAfter: leaf.notAfter.toISOString(), caId: leaf.caId });
    assert.deepEqual(view.rollover, { inProgress: false, currentCaId: leaf.caId, leaves: 1, moved: 1 });
    assert.ok(!JSON.stringify(view).includes('PRIVATE KEY'));

    heard.length = 0;
    const started = await meshd.authority.startRollover();
    assert.ok(heard.includes('rollover') && heard.includes('trust-bundle'), heard.join(','));
    view = admin.view();
    assert.deepEqual(view.rollover, { inProgress: true, currentCaId: started.currentCaId, previousCaId: leaf.caId, leaves: 1, moved: 0 });
    const [moved] = await meshd.certificates.rotate();
    assert.equal(moved!.caId, started.currentCaId);
    assert.equal(admin.view().rollover.moved, 1);
    assert.equal(admin.view().endpoints.find((e) => e.id === FRONT)!.certificate!.serial, moved!.serial);
  });
});
