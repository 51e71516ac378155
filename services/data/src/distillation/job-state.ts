import type { RecordedEvent } from '@recon/eventlog';

/** What the recorded events say about one item of a distillation job. */
export interface ItemState {
  attempts: number;
  /** The last successful response's blob, when one was recorded. */
  okResponseBlob?: string;
  terminal?: 'accepted' | 'wrong-answer' | 'no-answer' | 'teacher-failed';
}

export function distillationStreamId(jobId: string): string {
  return `distillation-${jobId}`;
}

/** Folds a job's events into per-row state: the only source of truth for resuming after a crash. */
export function jobState(events: readonly RecordedEvent[]): Map<number, ItemState> {
  const state = new Map<number, ItemState>();
  const of = (row: number) => {
    let item = state.get(row);
    if (!item) state.set(row, (item = { attempts: 0 }));
    return item;
  };
  for (const event of events) {
    const payload = event.payload as {
      rowIndex: number;
      attempt?: number;
      outcome?: string;
      responseBlobHash?: string;
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
        break;
      case 'trace.rejected':
        item.terminal = payload.reason;
        break;
    }
  }
  return state;
}
