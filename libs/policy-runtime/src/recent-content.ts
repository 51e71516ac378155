/**
 * The content of the last few blobs this process stored or read, by content hash, so a service that needs a
 * blob another service of the same process has just written (the embedded deployment: the rollout worker
 * asking for the checkpoint training saved a moment ago) skips reading, hashing and decoding it again.
 * Entries are immutable values; a caller still checks that the blob exists in its store before using one.
 */
export class RecentContent<T> {
  private readonly entries = new Map<string, { value: T; bytes: number }>();
  private bytes = 0;

  constructor(
    private readonly capacity: number,
    /** Content larger than this is not kept (a large model's weights are not held twice in memory). */
    readonly maxBytes: number,
  ) {}

  get(hash: string): T | undefined {
    const entry = this.entries.get(hash);
    if (!entry) return undefined;
    this.entries.delete(hash);
    this.entries.set(hash, entry);
    return entry.value;
  }

  set(hash: string, value: T, bytes: number): void {
    this.delete(hash);
    if (bytes > this.maxBytes) return;
    this.entries.set(hash, { value, bytes });
    this.bytes += bytes;
    for (const [oldest] of this.entries) {
      if (this.entries.size <= this.capacity && this.bytes <= this.maxBytes) break;
      this.delete(oldest);
    }
  }

  delete(hash: string): void {
    const entry = this.entries.get(hash);
    if (!entry) return;
    this.entries.delete(hash);
    this.bytes -= entry.bytes;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}
