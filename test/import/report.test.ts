import { strict as assert } from 'node:assert';
import { formatReport } from '../../src/import/report';

describe('import: the report', () => {
  it('counts resources per kind, lists skipped, notes, warnings and errors, and ends with the outcome', () => {
    const mesh = { kind: 'Mesh' as const, body: {}, origin: 'a' };
    const node = { kind: 'VirtualNode' as const, body: {}, origin: 'b' };
    assert.equal(formatReport({
      resources: [node, mesh, node], skipped: ['2 non-App-Mesh resources (AWS::IAM::Role ×2)'], notes: ['podSelector dropped: why'],
      warnings: [{ file: 'x.yaml', resource: 'R', message: 'w' }], importErrors: [], validationErrors: [{ file: 'm.yaml', resource: 'VirtualNode n', path: 'spec', message: 'bad' }],
      destination: 'wrote 3 files to out',
    }), [
      'invalid: m.yaml: VirtualNode n: spec: bad',
      'warning: x.yaml: R: w',
      'imported: 1 Mesh, 2 VirtualNode',
      'skipped: 2 non-App-Mesh resources (AWS::IAM::Role ×2)',
      'note: podSelector dropped: why',
      '1 error, 1 warning; wrote 3 files to out',
    ].join('\n'));
    assert.equal(formatReport({ resources: [], skipped: [], warnings: [], importErrors: [], validationErrors: [], destination: 'printed 0 resources' }), 'imported: nothing\nvalid, 0 warnings; printed 0 resources');
  });
});
