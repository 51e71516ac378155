import { canonicalJson, type EventStore, type RecordedEvent } from '@recon/eventlog';
import { requestRun, type ExperimentConfig } from '@recon/experiment';
import { TEST_PRODUCER } from './synthetic-run';

/** Opens a run the way `recon run --submit` does, requested by the test. */
export function requestTestRun(eventStore: EventStore, runId: string, experiment: ExperimentConfig) {
  return requestRun(eventStore, runId, experiment, {
    requestedBy: 'jest',
    codeVersion: 'test',
    producer: TEST_PRODUCER,
  });
}

/**
 * The event types whose payloads depend neither on the run id nor on when the run happened, in either
 * deployment: two runs of one config and seed record them alike. A suite adds the types that are
 * reproducible in its scenario too.
 */
export const REPRODUCIBLE_TYPES: readonly string[] = [
  'tokenizer.trained',
  'policy.initialised',
  'sft.step.completed',
  'checkpoint.saved',
  'rollouts.requested',
  'rollout.generated',
  'reward.scored',
  'grpo.step.completed',
  'evaluation.item.scored',
];

/**
 * The payload hashes of the events of the given types, sorted: two runs of one config and seed must have
 * the same fingerprint over the types whose payloads depend on neither the run id nor the time.
 */
export function payloadFingerprint(events: RecordedEvent[], types: ReadonlySet<string>): string[] {
  return events
    .filter((e) => types.has(e.type))
    .map((e) => `${e.type} ${e.payloadHash}`)
    .sort();
}

/** The run's `game.finished` payloads in log order, with the run id (their match ids name it) taken out. */
export function gamesWithoutRunId(events: RecordedEvent[], runId: string): string[] {
  return events
    .filter((e) => e.type === 'game.finished')
    .map((e) => canonicalJson(e.payload).split(runId).join('<run>'));
}
