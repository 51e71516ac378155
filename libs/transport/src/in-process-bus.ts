import type { Pool } from 'pg';
import { LogListener, subscribeAll, type EventStore, type RecordedEvent } from '@recon/eventlog';
import type { EventType } from '@recon/contracts';
import {
  HandlerFailedError,
  isSubscribedType,
  type Consumer,
  type EventBus,
  type EventHandler,
  type SubscribeOptions,
} from './event-bus';

interface Group {
  controller: AbortController;
  done: Promise<void>;
}

export interface InProcessBusOptions {
  /** Called when a handler fails; the group stops there (its offset stays before the failed event). */
  onError?: (error: HandlerFailedError) => void;
  /**
   * Called when a group stops on a failure of the bus itself (reading the log failed); without it such a
   * failure goes to onError, as a handler failure of the group.
   */
  onBusError?: (group: string, error: Error) => void;
  pollMs?: number;
}

/**
 * The embedded deployment's bus: each consumer group tails the committed log from its stored offset and
 * calls its handler in commit order, storing the offset after each handled event. It takes the same path
 * as the distributed bus: services append to the log and react to what the log delivers.
 */
export class InProcessEventBus implements EventBus {
  private readonly groups = new Set<Group>();
  /** One LISTEN connection wakes every group (one each would hold most of a small pool). */
  private readonly listener: LogListener;

  constructor(
    private readonly store: EventStore,
    private readonly pool: Pool,
    private readonly options: InProcessBusOptions = {},
  ) {
    this.listener = new LogListener(pool);
  }

  private async offset(group: string, startAt: SubscribeOptions['startAt']): Promise<number> {
    const result = await this.pool.query<{ global_position: string }>(
      'SELECT global_position FROM consumer_offsets WHERE consumer_group = $1',
      [group],
    );
    if (result.rows[0]) return Number(result.rows[0].global_position);
    if (startAt !== 'latest') return 0;
    const head = await this.store.headPosition();
    await this.commit(group, head);
    return head;
  }

  private async commit(group: string, position: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO consumer_offsets (consumer_group, global_position) VALUES ($1, $2)
       ON CONFLICT (consumer_group) DO UPDATE SET global_position = GREATEST(consumer_offsets.global_position, $2)`,
      [group, position],
    );
  }

  async subscribe<T extends EventType = EventType>(
    options: SubscribeOptions<T>,
    handler: EventHandler<T>,
  ): Promise<Consumer> {
    const controller = new AbortController();
    const after = await this.offset(options.group, options.startAt);
    const group: Group = { controller, done: Promise.resolve() };
    // Read as any events; isSubscribedType narrows each to the subscription's types.
    group.done = subscribeAll<EventType>(
      this.store,
      this.pool,
      async (events, reached) => {
        for (const event of events) {
          if (controller.signal.aborted) throw new Error('consumer stopped');
          if (isSubscribedType(options.types, event)) {
            try {
              await handler(event);
            } catch (cause) {
              throw new HandlerFailedError(options.group, event, cause);
            }
          }
        }
        await this.commit(options.group, reached);
      },
      // Filtered in the read: an append of events no handler of the group wants costs it an empty read.
      {
        after,
        signal: controller.signal,
        pollMs: this.options.pollMs ?? 200,
        types: options.types,
        listener: this.listener,
      },
    )
      .then(() => undefined)
      .catch((error: unknown) => {
        if (error instanceof HandlerFailedError) this.options.onError?.(error);
        else if (controller.signal.aborted) return;
        else if (this.options.onBusError) this.options.onBusError(options.group, error as Error);
        else this.options.onError?.(new HandlerFailedError(options.group, {} as RecordedEvent, error));
      });
    this.groups.add(group);
    return {
      group: options.group,
      // Each member of an in-process group tails the whole log, whatever the partition key.
      delivers: () => true,
      stop: async () => {
        controller.abort();
        await group.done;
        this.groups.delete(group);
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.groups].map(async (group) => {
        group.controller.abort();
        await group.done;
      }),
    );
    this.groups.clear();
  }
}
