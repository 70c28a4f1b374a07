import { strict as assert } from 'node:assert';
import { MessageParts, serializeMessage } from '../../src/xds/message-parts';

describe('xds/message-parts', () => {
  it('joins a message from its parts: into memory of its own, or into scratch space when serialized for a write', () => {
    const fields = [Buffer.from('resource one'), Buffer.from('resource two')];
    const joined = new MessageParts(fields).join();
    assert.ok(joined.equals(Buffer.concat(fields)));
    assert.equal(joined.buffer.byteLength, joined.length, 'memory of its own, not a pool slab');
    // Bytes pass through as they are; parts land in scratch space reused by the next write.
    assert.equal(serializeMessage(joined), joined);
    const first = serializeMessage(new MessageParts(fields));
    assert.ok(first.equals(joined));
    const second = serializeMessage(new MessageParts([Buffer.from('other')]));
    assert.equal(second.buffer, first.buffer);
    assert.equal(second.toString(), 'other');
    // Larger than the scratch space so far: it grows; past its limit, memory of its own.
    const larger = serializeMessage(new MessageParts([Buffer.alloc(40 * 1024, 2)]));
    assert.equal(larger.length, 40 * 1024);
    assert.ok(larger.every((byte) => byte === 2));
    const big = new MessageParts([Buffer.alloc(300 * 1024, 1)]);
    assert.notEqual(serializeMessage(big).buffer, larger.buffer);
  });
});
