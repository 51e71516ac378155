import type { PayloadOf } from '@recon/contracts';
import type { EventStore } from '@recon/eventlog';
import { experimentConfigSchema, type ExperimentConfig } from './experiment-config';

export interface RunRequest {
  runId: string;
  config: ExperimentConfig;
  seed: number;
  request: PayloadOf<'run.requested'>;
}

/** The config a run was submitted with, read from its `run.requested` event and validated again. */
export async function readRunConfig(eventStore: EventStore, runId: string): Promise<RunRequest> {
  const [event] = await eventStore.readStream(runId, { types: ['run.requested'], toPosition: 1 });
  if (!event) throw new Error(`run ${runId}: no run.requested event`);
  const request = event.payload as PayloadOf<'run.requested'>;
  const parsed = experimentConfigSchema.safeParse(request.config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`run ${runId}: recorded config is invalid at ${issue.path.join('.')}: ${issue.message}`);
  }
  return { runId, config: parsed.data, seed: request.seed, request };
}

/** Whether a run has ended (completed or failed): services then leave its remaining events alone. */
export async function runHasEnded(eventStore: EventStore, runId: string): Promise<boolean> {
  const ended = await eventStore.readStream(runId, { types: ['run.completed', 'run.failed'] });
  return ended.length > 0;
}
