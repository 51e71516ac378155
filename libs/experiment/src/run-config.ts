import type { PayloadOf } from '@recon/contracts';
import type { EventStore, RecordedEvent } from '@recon/eventlog';
import { experimentConfigSchema, type ExperimentConfig } from './experiment-config';

/** A run whose recorded request cannot be read as an experiment (a synthetic `recon demo` run, say). */
export class RecordedConfigError extends Error {
  constructor(
    readonly runId: string,
    reason: string,
  ) {
    super(`run ${runId}: ${reason}`);
    this.name = 'RecordedConfigError';
  }
}

export interface RunRequest {
  runId: string;
  config: ExperimentConfig;
  seed: number;
  request: PayloadOf<'run.requested'>;
}

/** The config a run was submitted with, read from its `run.requested` event and validated again. */
export async function readRunConfig(eventStore: EventStore, runId: string): Promise<RunRequest> {
  const [event] = await eventStore.readStream(runId, { types: ['run.requested'], toPosition: 1 });
  if (!event) throw new RecordedConfigError(runId, 'no run.requested event');
  return runRequestOf(event);
}

/** A run's `run.requested` event with its config validated again (an error names the first invalid key). */
export function runRequestOf(event: RecordedEvent<'run.requested'>): RunRequest {
  const runId = event.streamId;
  const request = event.payload;
  const parsed = experimentConfigSchema.safeParse(request.config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RecordedConfigError(
      runId,
      `recorded config is invalid at ${issue.path.join('.')}: ${issue.message}`,
    );
  }
  return { runId, config: parsed.data, seed: request.seed, request };
}

/** Whether a run has ended (completed or failed): services then leave its remaining events alone. */
export async function runHasEnded(eventStore: EventStore, runId: string): Promise<boolean> {
  const ended = await eventStore.readStream(runId, { types: ['run.completed', 'run.failed'] });
  return ended.length > 0;
}
