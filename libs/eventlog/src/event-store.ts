import type { Envelope, EventType, PayloadOf, Producer } from '@recon/contracts';

/** An event to append. Pass a deterministic `eventId` where a retry must not duplicate the event. */
export type NewEvent = {
  [K in EventType]: {
    type: K;
    payload: PayloadOf<K>;
    eventId?: string;
    schemaVersion?: number;
    meta?: Record<string, unknown>;
    causationId?: string | null;
    correlationId?: string | null;
  };
}[EventType];

/** 'no-stream': the stream must not exist yet; a number: the stream must be at exactly that version. */
export type ExpectedVersion = number | 'any' | 'no-stream';

export interface AppendOptions {
  expectedVersion: ExpectedVersion;
  producer: Producer;
}

/** A committed event. `tombstonedBy`: its content was withdrawn by that deletion event (payload is a tombstone). */
export type RecordedEvent = Envelope & { globalPosition: number; tombstonedBy?: string };

export interface ReadStreamOptions {
  fromPosition?: number;
  toPosition?: number;
  types?: string[];
  /** At most this many events (the first ones in position order). */
  limit?: number;
}

export interface ReadAllFilter {
  upTo?: number;
  types?: readonly string[];
  streamId?: string;
}

export interface EventStore {
  /**
   * Appends events to a stream atomically. Throws WrongExpectedVersionError (nothing written) on a version
   * conflict. Re-appending events whose ids are already recorded with the same content returns the recorded
   * events instead of writing them again.
   */
  append(streamId: string, events: NewEvent[], options: AppendOptions): Promise<RecordedEvent[]>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** The stream's current version (its last position), 0 when it does not exist. */
  streamVersion(streamId: string): Promise<number>;
  /** Events after a global position, in commit order, at most `limit`, optionally filtered. */
  readAll(afterGlobalPosition: number, limit: number, filter?: ReadAllFilter): Promise<RecordedEvent[]>;
  /** The global position of the last committed event, 0 for an empty log. */
  headPosition(): Promise<number>;
  listStreams(): Promise<Array<{ streamId: string; version: number }>>;
}
