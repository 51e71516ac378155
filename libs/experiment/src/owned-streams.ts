import { storableText, streamKindOf, type EventType, type Producer, type StreamKind } from '@recon/contracts';
import {
  deterministicEventId,
  IdempotencyConflictError,
  isConnectionLoss,
  type EventStore,
  type RecordedEvent,
} from '@recon/eventlog';
import { logger, rootLogger, withEventLogger } from '@recon/logging';
import { runHasEnded, runRequestOf, type RunRequest } from './run-config';

/**
 * The handlers of a consumer, one per kind of stream it owns; events of every other kind are skipped.
 * T: the event types the consumer subscribes to, which its handlers' events are narrowed to.
 */
export interface OwnedStreamHandlers<T extends EventType = EventType> {
  /** An event of a training run, with the run's validated request. */
  run?: (event: RecordedEvent<T>, run: RunRequest) => Promise<void>;
  /** An event of a rescore stream (`rescore.requested` opens it). */
  rescore?: (event: RecordedEvent<T>) => Promise<void>;
}

export interface OwnedStreamsOptions {
  eventStore: EventStore;
  /** The consumer group: the phase a `run.failed` it records names. */
  group: string;
  producer: Producer;
}

/** What the consumer knows of a stream it met: its kind, and for a run its request or why it has none. */
type StreamState =
  { kind: 'run'; run: RunRequest } | { kind: 'run'; unusable: string } | { kind: Exclude<StreamKind, 'run'> };

/** Streams remembered per consumer; the oldest is read again when it shows up after that many others. */
const REMEMBERED_STREAMS = 4096;

/**
 * Wraps a consumer's handlers so that it acts only on the streams it owns, by the stream's kind (its first
 * event, see `streamKindOf`), and so that no stream can stop the consumer group:
 * - events of a kind the consumer has no handler for are skipped;
 * - a run whose recorded config this code does not accept is failed (`run.failed` naming the group and the
 *   key), unless it has ended already: a run recorded whole, such as `recon demo`'s synthetic run, is left alone;
 * - a handler error fails that stream (`run.failed`), not the group; only a lost database connection is
 *   thrown, so that the service exits and its restart continues from the log.
 * The stream's kind and the run's request are read once per stream (its first event never changes).
 * The event is handled in its log scope: every line logged meanwhile, in whatever module, carries the group,
 * the run id and the event's ids (withEventLogger); at debug level each handled event is a line.
 */
export function ownedStreamsHandler<T extends EventType = EventType>(
  options: OwnedStreamsOptions,
  handlers: OwnedStreamHandlers<T>,
): (event: RecordedEvent<T>) => Promise<void> {
  const streams = new Map<string, Promise<StreamState>>();
  const stateOf = (streamId: string): Promise<StreamState> => {
    let state = streams.get(streamId);
    if (!state) {
      state = readStreamState(options.eventStore, streamId);
      // A failed read (the database away) is not kept: the next event reads again.
      state.catch(() => streams.delete(streamId));
      streams.set(streamId, state);
      if (streams.size > REMEMBERED_STREAMS) streams.delete(streams.keys().next().value as string);
    }
    return state;
  };
  const fail = (event: RecordedEvent<T>, error: unknown) => failStream(options, event, error);

  const handle = async (event: RecordedEvent<T>) => {
    if (rootLogger().isLevelEnabled('debug')) logger().debug('handling event');
    const state = await stateOf(event.streamId);
    try {
      if (state.kind === 'run' && handlers.run) {
        if ('unusable' in state) await fail(event, state.unusable);
        else await handlers.run(event, state.run);
      } else if (state.kind === 'rescore' && handlers.rescore) {
        await handlers.rescore(event);
      }
    } catch (error) {
      if (isConnectionLoss(error)) throw error;
      await fail(event, error);
    }
  };
  return (event) => withEventLogger(event, { group: options.group }, () => handle(event));
}

async function readStreamState(eventStore: EventStore, streamId: string): Promise<StreamState> {
  const [opening] = await eventStore.readStream(streamId, { toPosition: 1 });
  const kind = streamKindOf(opening?.type);
  if (kind !== 'run') return { kind };
  // Only run.requested opens a stream of kind run: this test narrows the opening event for the compiler.
  if (opening?.type !== 'run.requested') return { kind: 'other' };
  try {
    return { kind, run: runRequestOf(opening) };
  } catch (error) {
    return { kind, unusable: (error as Error).message };
  }
}

/**
 * Records `run.failed` on the stream, naming the group, unless the stream has ended already; logs it (the
 * line carries the run and the event that failed it, from the event's log scope).
 */
async function failStream(
  options: OwnedStreamsOptions,
  cause: Pick<RecordedEvent, 'streamId' | 'eventId'>,
  error: unknown,
): Promise<void> {
  const { eventStore, group, producer } = options;
  const streamId = cause.streamId;
  if (await runHasEnded(eventStore, streamId)) return;
  const message = typeof error === 'string' ? error : (error as Error)?.message || String(error);
  try {
    await eventStore.append(
      streamId,
      [
        {
          eventId: deterministicEventId(streamId, 'run.failed', group),
          type: 'run.failed',
          causationId: cause.eventId,
          payload: { phase: group, error: storableText(message, 2000) },
        },
      ],
      { expectedVersion: 'any', producer },
    );
  } catch (appendError) {
    // Another member of the group failed the stream first (its message may differ): it has failed.
    if (!(appendError instanceof IdempotencyConflictError)) throw appendError;
    return;
  }
  logger().warn(`run failed in ${group}: ${message}`);
}
