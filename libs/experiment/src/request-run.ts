import type { PayloadOf, Producer } from '@recon/contracts';
import { canonicalJson, sha256Hex, type EventStore, type RecordedEvent } from '@recon/eventlog';
import type { ExperimentConfig } from './experiment-config';

export interface RunRequestOptions {
  requestedBy: string;
  codeVersion: string;
  producer: Producer;
  /** A fork: the run and step it continues from, and the config keys it changed. */
  parent?: PayloadOf<'run.requested'>['parent'];
}

/**
 * Opens a run: its first event, `run.requested`, records the experiment exactly as validated (a JSON round
 * trip, so what replay re-reads is what was hashed) with its hash. Fails if the run id is already taken.
 */
export async function requestRun(
  eventStore: EventStore,
  runId: string,
  experiment: ExperimentConfig,
  options: RunRequestOptions,
): Promise<RecordedEvent> {
  const config = JSON.parse(JSON.stringify(experiment)) as Record<string, never>;
  const payload: PayloadOf<'run.requested'> = {
    name: experiment.name,
    config,
    configHash: sha256Hex(canonicalJson(config)),
    seed: experiment.seed,
    requestedBy: options.requestedBy,
    codeVersion: options.codeVersion,
    ...(options.parent ? { parent: options.parent } : {}),
  };
  const [recorded] = await eventStore.append(runId, [{ type: 'run.requested', payload }], {
    expectedVersion: 'no-stream',
    producer: options.producer,
  });
  return recorded;
}
