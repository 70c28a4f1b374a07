// meshd's command-line help, read from the real CLI: what it promises must be what it does.
import { strict as assert } from 'node:assert';
import { runCli } from '../support/run-cli';

describe('cli: help texts', () => {
  it('shows the SDS socket mode default in octal, as it is given', async () => {
    const help = await runCli(['serve', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--sds-socket-mode <octal>[\s\S]*?\(default: 0600\)/);
    assert.doesNotMatch(help.stdout, /384/);
  });

  it('says what the expiry check of verify fails on, short-lived certificates included', async () => {
    const help = await runCli(['verify', '--help']);
    assert.equal(help.code, 0);
    const text = help.stdout.replace(/\s+/g, ' ');
    assert.match(text, /--expiry-days <n> certificates expiring within this many days are findings/);
    assert.match(text, /less than a quarter of their lifetime/);
    assert.match(text, /--strict .*unknown TLS posture/);
  });
});
