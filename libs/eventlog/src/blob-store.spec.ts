import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBlobStore } from './blob-store';
import { sha256Hex } from './canonical';
import { BlobCorruptedError, BlobNotFoundError } from './errors';

describe('FileBlobStore', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'blobs-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('stores content under its sha256 and returns the same bytes', async () => {
    const store = new FileBlobStore(root);
    const hash = await store.put('checkpoint bytes');
    expect(hash).toBe(sha256Hex('checkpoint bytes'));
    expect(await store.put(Buffer.from('checkpoint bytes'))).toBe(hash);
    expect((await store.get(hash)).toString()).toBe('checkpoint bytes');
    expect(await store.has(hash)).toBe(true);
  });

  it('names a missing blob, a corrupted blob and a malformed hash', async () => {
    const store = new FileBlobStore(root);
    await expect(store.get('0'.repeat(64))).rejects.toBeInstanceOf(BlobNotFoundError);
    const hash = await store.put('original');
    writeFileSync(join(root, hash.slice(0, 2), hash.slice(2)), 'tampered');
    await expect(store.get(hash)).rejects.toBeInstanceOf(BlobCorruptedError);
    await expect(store.get('../etc/passwd')).rejects.toThrow('is not a sha256 hex blob hash');
  });
});
