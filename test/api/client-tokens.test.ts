import { strict as assert } from 'node:assert';
import { ClientTokens } from '../../src/api/client-tokens';

describe('api/client-tokens', () => {
  it('runs a request once per token, answers a repeat with the first response, refuses a changed repeat', async () => {
    const tokens = new ClientTokens();
    let runs = 0;
    const work = async () => ({ run: ++runs });
    assert.deepEqual(await tokens.once('CreateMesh', 't', 'a', work), { run: 1 });
    assert.deepEqual(await tokens.once('CreateMesh', 't', 'a', work), { run: 1 });
    await assert.rejects(tokens.once('CreateMesh', 't', 'b', work), /clientToken t was already used for a different request/);
    assert.deepEqual(await tokens.once('UpdateMesh', 't', 'b', work), { run: 2 }, 'tokens are per operation');
    assert.deepEqual(await tokens.once('CreateMesh', undefined, 'a', work), { run: 3 }, 'no token: no idempotency');
  });

  it('runs concurrent repeats once', async () => {
    const tokens = new ClientTokens();
    let runs = 0;
    const results = await Promise.all([1, 2, 3].map(() => tokens.once('CreateMesh', 't', 'a', async () => ({ run: ++runs }))));
    assert.deepEqual(results, [{ run: 1 }, { run: 1 }, { run: 1 }]);
  });

  it('does not remember a failed request', async () => {
    const tokens = new ClientTokens();
    await assert.rejects(tokens.once('CreateMesh', 't', 'a', async () => { throw new Error('refused'); }));
    assert.deepEqual(await tokens.once('CreateMesh', 't', 'a', async () => ({ ok: true })), { ok: true });
  });

  it('forgets tokens past their time and beyond its bound', async () => {
    const tokens = new ClientTokens({ maxTokens: 2 });
    for (const token of ['a', 'b', 'c', 'd']) await tokens.once('CreateMesh', token, 'x', async () => ({ token }));
    assert.deepEqual(await tokens.once('CreateMesh', 'a', 'other', async () => ({ token: 'a2' })), { token: 'a2' }, 'the oldest was forgotten');
  });
});
