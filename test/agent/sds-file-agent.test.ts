import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { SdsFileAgent, type AgentWrite } from '../../src/agent/sds-file-agent';
import { startSdsEnv, stopSdsEnv, TD, type SdsEnv } from '../support/sds-env';

const API = 'mesh/demo/virtualNode/api';

function nextWrite(agent: SdsFileAgent, predicate: (w: AgentWrite) => boolean = () => true, timeoutMs = 10_000): Promise<AgentWrite> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('agent wrote nothing in time')), timeoutMs);
    const onWrite = (w: AgentWrite): void => {
      if (!predicate(w)) return;
      clearTimeout(timer);
      agent.off('written', onWrite);
      resolve(w);
    };
    agent.on('written', onWrite);
  });
}

describe('agent/sds-file-agent', function () {
  this.timeout(30_000);
  let env: SdsEnv;
  let dir: string;
  let agent: SdsFileAgent | undefined;

  beforeEach(async () => {
    env = await startSdsEnv();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshd-agent-'));
  });
  afterEach(async () => {
    agent?.stop();
    await stopSdsEnv(env);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes a matching certificate, a 0600 key and the CA bundle, and rewrites them on rotation', async () => {
    agent = new SdsFileAgent({ nodeId: API, token: env.credentials.tokenFor(API), sdsSocket: env.socketPath, dir });
    const first = nextWrite(agent);
    agent.start();
    const written = await first;
    const cert = new X509Certificate(fs.readFileSync(path.join(dir, 'cert.pem')));
    assert.equal(cert.serialNumber.toLowerCase(), written.serial);
    assert.ok(cert.checkPrivateKey(createPrivateKey(fs.readFileSync(path.join(dir, 'key.pem')))));
    assert.equal(fs.statSync(path.join(dir, 'key.pem')).mode & 0o777, 0o600);
    assert.ok(cert.verify(new X509Certificate(fs.readFileSync(path.join(dir, 'ca.pem'))).publicKey));
    assert.match(cert.subjectAltName ?? '', new RegExp(`URI:spiffe://${TD}/mesh/demo/virtualNode/api`));

    const rotated = nextWrite(agent, (w) => w.serial !== written.serial);
    await env.certificates.rotate();
    const after = await rotated;
    const newCert = new X509Certificate(fs.readFileSync(path.join(dir, 'cert.pem')));
    assert.equal(newCert.serialNumber.toLowerCase(), after.serial);
    assert.ok(newCert.checkPrivateKey(createPrivateKey(fs.readFileSync(path.join(dir, 'key.pem')))));
  });

  it('stops with a clear error when meshd refuses its credential', async () => {
    agent = new SdsFileAgent({ nodeId: API, token: env.credentials.tokenFor('mesh/demo/virtualNode/other'), sdsSocket: env.socketPath, dir });
    const failed = new Promise<Error>((resolve) => agent!.once('error', resolve));
    agent.start();
    assert.match((await failed).message, /meshd refused the agent: the credential presented is not valid/);
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});
