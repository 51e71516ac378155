/**
 * What a stream records, named by its first event: every stream is opened by the event that says what it is.
 * Consumers act on the kinds of stream they own and skip the others by this rule, never by what a later
 * event looks like (an external evaluation records `evaluation.completed` as a run does, a synthetic demo
 * run `rollout.generated`).
 */
const KIND_BY_OPENING_EVENT = {
  /** A training run (a fork and a verification replay included): the pipeline's services work on it. */
  'run.requested': 'run',
  /** `recon eval`, or `recon run` of an external (openai) policy: evaluated by the process that asked. */
  'external.evaluation.requested': 'external-evaluation',
  /** A run's recorded rollouts scored again by another reward, into `<run>.rescore-<id>-<version>`. */
  'rescore.requested': 'rescore',
  /** A distillation job, `distillation-<jobId>` (recorded before jobs had an opening request: its first call). */
  'distillation.requested': 'distillation',
  'teacher.request.sent': 'distillation',
  'dataset.registered': 'dataset',
  'access.token.created': 'access',
  'reward.service.registered': 'reward-registry',
} as const satisfies Record<string, string>;

export type StreamKind = (typeof KIND_BY_OPENING_EVENT)[keyof typeof KIND_BY_OPENING_EVENT] | 'other';

/** The kind of a stream whose first event has this type; `other` for a stream no kind names (owned by no consumer). */
export function streamKindOf(openingEventType: string | undefined): StreamKind {
  return Object.hasOwn(KIND_BY_OPENING_EVENT, openingEventType ?? '')
    ? KIND_BY_OPENING_EVENT[openingEventType as keyof typeof KIND_BY_OPENING_EVENT]
    : 'other';
}
