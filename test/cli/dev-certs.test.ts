// `meshd certs dev` as a process: what it writes is a demo CA for `file` certificate sources, and
// it says so, since `npm start` puts it beside meshd's own CA under certs-dev/.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../support/run-cli';

const EXAMPLE = path.resolve(__dirname, '../../../examples/colorapp');

describe('cli: meshd certs dev', function () {
  this.timeout(30_000);
  let work: string;
  beforeEach(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-devcerts-')); });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  it('says its CA is a demo CA for file certificate sources, not meshd\'s own', async () => {
    const result = await runCli(['certs', 'dev', '--config', EXAMPLE, '--dir', path.join(work, 'files')]);
    assert.equal(result.code, 0, result.stderr);
    const [first] = result.stdout.split('\n');
    assert.match(first!, /^demo CA for `file` certificate sources: .*ca_bundle\.pem \(not meshd's own CA, which `meshd serve` keeps in its state directory\)$/);
    assert.ok(fs.existsSync(path.join(work, 'files', 'ca_bundle.pem')));
  });
});
