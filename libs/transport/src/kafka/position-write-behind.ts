/**
 * Stores a monotonic position behind the work that reaches it: note() records the position and starts a
 * write unless one is under way; positions noted meanwhile go in the next write, as one (the highest).
 * The work never waits for the database, and a burst of notes costs one or two writes. What is noted but
 * not stored yet is lost with the process, so this suits a position whose loss only repeats work that is
 * skipped anyway (the relay's: consumers skip what their handled positions cover).
 */
export class PositionWriteBehind {
  private noted = 0;
  private stored = 0;
  private writing: Promise<void> | null = null;
  private failure: Error | null = null;

  constructor(private readonly write: (position: number) => Promise<void>) {}

  /** The highest position noted (stored or not). */
  get position(): number {
    return this.noted;
  }

  /** The last background write failed (flush() throws it, and retries what is noted). */
  get failed(): boolean {
    return this.failure !== null;
  }

  note(position: number): void {
    if (position > this.noted) this.noted = position;
    this.writing ??= this.drain();
  }

  /** Resolves once every position noted so far is stored; throws when a write fails. */
  async flush(): Promise<void> {
    this.failure = null;
    while (this.noted > this.stored) {
      this.writing ??= this.drain();
      await this.writing;
      const failure = this.failure as Error | null;
      if (failure) {
        this.failure = null;
        throw failure;
      }
    }
  }

  private async drain(): Promise<void> {
    try {
      while (this.noted > this.stored) {
        const position = this.noted;
        await this.write(position);
        this.stored = Math.max(this.stored, position);
      }
      this.failure = null;
    } catch (error) {
      this.failure = error as Error;
    } finally {
      this.writing = null;
    }
  }
}
