/** A writer's expected stream version did not match: another writer got there first. Nothing was written. */
export class WrongExpectedVersionError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: number | 'no-stream',
    readonly actual: number,
  ) {
    super(`stream '${streamId}': expected version ${expected}, but the stream is at version ${actual}`);
    this.name = 'WrongExpectedVersionError';
  }
}

/** An append reused event ids already recorded with different content or at another place. */
export class IdempotencyConflictError extends Error {
  constructor(
    readonly streamId: string,
    readonly eventIds: string[],
    reason: string,
  ) {
    super(`stream '${streamId}': event id(s) ${eventIds.join(', ')} ${reason}`);
    this.name = 'IdempotencyConflictError';
  }
}

export class BlobNotFoundError extends Error {
  constructor(readonly hash: string) {
    super(`blob ${hash} is not in the blob store`);
    this.name = 'BlobNotFoundError';
  }
}

export class BlobCorruptedError extends Error {
  constructor(
    readonly hash: string,
    readonly found: string,
  ) {
    super(`blob ${hash} is corrupted: its bytes hash to ${found}`);
    this.name = 'BlobCorruptedError';
  }
}

/** A content deletion that cannot be carried out as asked; nothing was changed. */
export class ContentDeletionError extends Error {
  constructor(
    readonly streamId: string,
    reason: string,
  ) {
    super(`stream '${streamId}': ${reason}`);
    this.name = 'ContentDeletionError';
  }
}

export class BatchTooLargeError extends Error {
  constructor(
    readonly streamId: string,
    readonly size: number,
    readonly limit: number,
  ) {
    super(`stream '${streamId}': an append carries at most ${limit} events, this one ${size}: split it`);
    this.name = 'BatchTooLargeError';
  }
}
