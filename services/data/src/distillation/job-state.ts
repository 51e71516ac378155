import type { RecordedEvent } from '@recon/eventlog';

/** What the recorded events say about one item of a distillation job. */
export interface ItemState {
  attempts: number;
  /** The last successful response's blob, when one was recorded. */
  okResponseBlob?: string;
  terminal?: 'accepted' | 'wrong-answer' | 'no-answer' | 'teacher-failed';
  /** The accepted trace's blob, when the item's last verdict is `accepted`. */
  acceptedTraceBlob?: string;
}

/** A job's totals: each item counted once, by its last verdict. */
export interface JobCounts {
  items: number;
  accepted: number;
  rejected: { wrongAnswer: number; noAnswer: number; teacherFailed: number };
}

export function jobCounts(state: ReadonlyMap<number, ItemState>, items: number): JobCounts {
  const counts: JobCounts = {
    items,
    accepted: 0,
    rejected: { wrongAnswer: 0, noAnswer: 0, teacherFailed: 0 },
  };
  for (const [row, item] of state) {
    if (row >= items) continue;
    if (item.terminal === 'accepted') counts.accepted += 1;
    else if (item.terminal === 'wrong-answer') counts.rejected.wrongAnswer += 1;
    else if (item.terminal === 'no-answer') counts.rejected.noAnswer += 1;
    else if (item.terminal === 'teacher-failed') counts.rejected.teacherFailed += 1;
  }
  return counts;
}

export function distillationStreamId(jobId: string): string {
  return `distillation-${jobId}`;
}

/** The events about one item; the job's own events (request, completion, dataset) are not. */
const ITEM_EVENTS = new Set([
  'teacher.request.sent',
  'teacher.response.received',
  'trace.accepted',
  'trace.rejected',
]);

/** Folds a job's events into per-row state: the only source of truth for resuming after a crash. */
export function jobState(events: readonly RecordedEvent[]): Map<number, ItemState> {
  const state = new Map<number, ItemState>();
  const of = (row: number) => {
    let item = state.get(row);
    if (!item) state.set(row, (item = { attempts: 0 }));
    return item;
  };
  for (const event of events) {
    if (!ITEM_EVENTS.has(event.type)) continue;
    const payload = event.payload as {
      rowIndex: number;
      attempt?: number;
      outcome?: string;
      responseBlobHash?: string;
      traceBlobHash?: string;
      reason?: ItemState['terminal'];
    };
    const item = of(payload.rowIndex);
    switch (event.type) {
      case 'teacher.request.sent':
        item.attempts = Math.max(item.attempts, payload.attempt ?? 0);
        break;
      case 'teacher.response.received':
        if (payload.outcome === 'ok' && payload.responseBlobHash)
          item.okResponseBlob = payload.responseBlobHash;
        break;
      case 'trace.accepted':
        item.terminal = 'accepted';
        item.acceptedTraceBlob = payload.traceBlobHash;
        break;
      case 'trace.rejected':
        item.terminal = payload.reason;
        item.acceptedTraceBlob = undefined;
        break;
    }
  }
  return state;
}
