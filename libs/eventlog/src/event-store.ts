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

/**
 * A committed event of one of the types T, a discriminated union on `type` (narrow it with `switch
 * (event.type)`, `if (event.type === 'x')` or `ofType(...)`). `tombstonedBy`: its content was withdrawn by that
 * deletion event (payload is a tombstone, not the typed payload; check it before reading the payload of an
 * event type that can be deleted).
 */
export type RecordedEvent<T extends EventType = EventType> = Envelope<T> & {
  globalPosition: number;
  tombstonedBy?: string;
};

/** A committed event of exactly type K. */
export type RecordedEventOf<K extends EventType> = RecordedEvent<K>;

export interface ReadStreamOptions<T extends EventType = EventType> {
  fromPosition?: number;
  toPosition?: number;
  /** Only events of these types; a literal list of event types narrows the type of the events returned. */
  types?: readonly T[] | readonly string[];
  /** At most this many events (the first ones in position order). */
  limit?: number;
}

export interface ReadAllFilter<T extends EventType = EventType> {
  upTo?: number;
  types?: readonly T[] | readonly string[];
  streamId?: string;
}

export interface EventStore {
  /**
   * Appends events to a stream atomically. Throws WrongExpectedVersionError (nothing written) on a version
   * conflict. Re-appending events whose ids are already recorded with the same content returns the recorded
   * events instead of writing them again.
   */
  append(streamId: string, events: NewEvent[], options: AppendOptions): Promise<RecordedEvent[]>;
  readStream<T extends EventType = EventType>(streamId: string, options?: ReadStreamOptions<T>): Promise<RecordedEvent<T>[]>;
  /** The stream's current version (its last position), 0 when it does not exist. */
  streamVersion(streamId: string): Promise<number>;
  /** Events after a global position, in commit order, at most `limit`, optionally filtered. */
  readAll<T extends EventType = EventType>(
    afterGlobalPosition: number,
    limit: number,
    filter?: ReadAllFilter<T>,
  ): Promise<RecordedEvent<T>[]>;
  /** The global position of the last committed event, 0 for an empty log. */
  headPosition(): Promise<number>;
  listStreams(): Promise<Array<{ streamId: string; version: number }>>;
}
