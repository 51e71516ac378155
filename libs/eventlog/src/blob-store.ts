import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { sha256Hex } from './canonical';
import { BlobCorruptedError, BlobNotFoundError } from './errors';

/**
 * Content-addressed storage for large artefacts (datasets, tokenizers, checkpoints): the key of a blob is
 * the sha256 hex of its bytes, so events carry the hash and never the bytes. An S3-compatible store can
 * implement the same interface.
 */
export interface BlobStore {
  put(content: Uint8Array | string): Promise<string>;
  get(hash: string): Promise<Buffer>;
  has(hash: string): Promise<boolean>;
  /** Removes a blob (content withdrawal); removing an absent blob is not an error. */
  delete(hash: string): Promise<void>;
}

const HASH = /^[0-9a-f]{64}$/;

export class FileBlobStore implements BlobStore {
  constructor(readonly root: string) {}

  private pathOf(hash: string): string {
    if (!HASH.test(hash)) throw new Error(`'${hash}' is not a sha256 hex blob hash`);
    return join(this.root, hash.slice(0, 2), hash.slice(2));
  }

  async put(content: Uint8Array | string): Promise<string> {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
    const hash = sha256Hex(bytes);
    const target = this.pathOf(hash);
    if (await this.has(hash)) return hash;
    await mkdir(join(this.root, hash.slice(0, 2)), { recursive: true });
    // Write then rename: a crash never leaves a partial blob under its final name.
    const temporary = `${target}.${randomUUID()}.tmp`;
    await writeFile(temporary, bytes);
    await rename(temporary, target);
    return hash;
  }

  async get(hash: string): Promise<Buffer> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.pathOf(hash));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(hash);
      throw error;
    }
    const found = sha256Hex(bytes);
    if (found !== hash) throw new BlobCorruptedError(hash, found);
    return bytes;
  }

  async delete(hash: string): Promise<void> {
    await rm(this.pathOf(hash), { force: true });
  }

  async has(hash: string): Promise<boolean> {
    try {
      await stat(this.pathOf(hash));
      return true;
    } catch {
      return false;
    }
  }
}
