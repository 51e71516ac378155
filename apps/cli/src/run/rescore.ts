import { REWARD_REGISTRY_STREAM, type PayloadOf, type Producer } from '@recon/contracts';
import { deterministicEventId, type EventStore } from '@recon/eventlog';
import { readRunConfig } from '@recon/experiment';

interface Stat {
  n: number;
  sum: number;
  sumSq: number;
}
const add = (s: Stat, x: number) => ({ n: s.n + 1, sum: s.sum + x, sumSq: s.sumSq + x * x });
const empty = (): Stat => ({ n: 0, sum: 0, sumSq: 0 });
const mean = (s: Stat) => (s.n ? s.sum / s.n : NaN);
const std = (s: Stat) => (s.n ? Math.sqrt(Math.max(0, s.sumSq / s.n - mean(s) ** 2)) : NaN);

export interface RescoreReport {
  sourceRunId: string;
  streamId: string;
  rewardId: string;
  rewardVersion: string;
  originalRewardId: string;
  rollouts: number;
  /** Rollouts the reward service could not score (`reward.failed`), with the first errors. */
  failed: number;
  failures: string[];
  /** Pearson correlation of the two rewards over all rollouts, and the share where both agree on the sign. */
  correlation: number;
  signAgreement: number;
  perStep: Array<{
    step: number;
    original: { mean: number; std: number };
    rescored: { mean: number; std: number };
  }>;
  perCategory: Array<{ category: string; rollouts: number; original: number; rescored: number }>;
}

/** The reward id and version a rescore asks for: `id@version`, or the newest registered version of `id`. */
export async function resolveRescoreReward(
  eventStore: EventStore,
  spec: string,
): Promise<{ rewardId: string; rewardVersion: string }> {
  const [rewardId, version] = spec.split('@');
  const registrations = (
    await eventStore.readStream(REWARD_REGISTRY_STREAM, { types: ['reward.service.registered'] })
  ).map((e) => e.payload);
  const match = registrations
    .filter((r) => r.rewardId === rewardId && (!version || r.rewardVersion === version))
    .at(-1);
  if (match) return { rewardId, rewardVersion: match.rewardVersion };
  if (version) return { rewardId, rewardVersion: version }; // a service may register later; the wait names it
  const known = [...new Set(registrations.map((r) => `${r.rewardId}@${r.rewardVersion}`))];
  throw new Error(
    `no reward service '${rewardId}' has registered (registered: ${known.join(', ') || 'none'}); start it, ` +
      'or pass --reward-plugin <module> to run it in this process',
  );
}

export interface RescoreRequest {
  sourceRunId: string;
  streamId: string;
  rewardId: string;
  rewardVersion: string;
  rollouts: number;
}

/**
 * Opens the derived stream `<run>.rescore-<id>-<version>` with `rescore.requested`; the reward service of
 * that id and version (deployed, or started in this process) scores every recorded rollout of the run into
 * it without regenerating anything. The request's id derives from the stream, so asking twice records once.
 */
export async function requestRescore(
  eventStore: EventStore,
  sourceRunId: string,
  reward: { rewardId: string; rewardVersion: string },
  options: { actor: string; producer: Producer },
): Promise<RescoreRequest> {
  const rollouts = (await eventStore.readStream(sourceRunId, { types: ['rollout.generated'] })).length;
  const streamId = `${sourceRunId}.rescore-${reward.rewardId}-${reward.rewardVersion}`;
  await eventStore.append(
    streamId,
    [
      {
        eventId: deterministicEventId(streamId, 'rescore.requested'),
        type: 'rescore.requested',
        payload: { sourceRunId, ...reward, requestedBy: options.actor, rollouts },
      },
    ],
    { expectedVersion: 'any', producer: options.producer },
  );
  return { sourceRunId, streamId, ...reward, rollouts };
}

/** A rescore that the reward service did not carry out (or not in time); the message names the service. */
export class RescoreFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RescoreFailedError';
  }
}

/**
 * Waits until the derived stream holds a score (or a failure) for every rollout; the error names the service,
 * or why it could not rescore at all (its `run.failed` on the stream, e.g. a run without recorded prompts).
 */
export async function awaitRescore(
  eventStore: EventStore,
  request: RescoreRequest,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = await eventStore.readStream(request.streamId, {
      types: ['reward.scored', 'reward.failed', 'run.failed'],
    });
    const failed = events.find((e) => e.type === 'run.failed')?.payload;
    if (failed)
      throw new RescoreFailedError(
        `the reward service ${request.rewardId}@${request.rewardVersion} could not rescore ${request.sourceRunId} (${failed.phase}): ${failed.error}`,
      );
    const done = events.length;
    if (done >= request.rollouts) return;
    if (Date.now() >= deadline)
      throw new RescoreFailedError(
        `the reward service ${request.rewardId}@${request.rewardVersion} scored ${done} of ${request.rollouts} rollouts ` +
          `within ${Math.round(timeoutMs / 1000)} s: is it running? (the request stays in ${request.streamId}; ask again to keep waiting)`,
      );
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Compares the rescored stream with the run's original reward: per step, per category, agreement. */
export async function rescoreReport(eventStore: EventStore, request: RescoreRequest): Promise<RescoreReport> {
  const { sourceRunId, streamId } = request;
  const { config } = await readRunConfig(eventStore, sourceRunId);
  const events = await eventStore.readStream(sourceRunId, {
    types: ['rollouts.requested', 'rollout.generated', 'reward.scored'],
  });
  const prompts = new Map<string, PayloadOf<'rollouts.requested'>['prompts'][number]>();
  for (const e of events)
    if (e.type === 'rollouts.requested')
      for (const p of e.payload.prompts) prompts.set(p.promptId, p);
  const rollouts = new Map(
    events
      .filter((e) => e.type === 'rollout.generated')
      .map((e) => e.payload)
      .map((r) => [r.rolloutId, r]),
  );
  const originalRewardId = config.rewards[0].id;
  const original = new Map<string, number>();
  for (const e of events) {
    if (e.type === 'reward.scored' && e.payload.rewardId === originalRewardId)
      original.set(e.payload.rolloutId, e.payload.total);
  }
  const derived = await eventStore.readStream(streamId, { types: ['reward.scored', 'reward.failed'] });
  const failures = derived
    .filter((e) => e.type === 'reward.failed')
    .map((e) => e.payload);
  const scores = derived
    .filter((e) => e.type === 'reward.scored')
    .map((e) => e.payload)
    .flatMap((s) => {
      const rollout = rollouts.get(s.rolloutId);
      return rollout ? [{ rollout, total: s.total }] : [];
    });
  const reward = request;
  const steps = new Map<number, { original: Stat; rescored: Stat }>();
  const categories = new Map<string, { original: Stat; rescored: Stat }>();
  let both = empty();
  let cross = 0;
  let agree = 0;
  let origAll = empty();
  for (const { rollout, total } of scores) {
    const orig = original.get(rollout.rolloutId) ?? NaN;
    const cell = steps.get(rollout.step) ?? { original: empty(), rescored: empty() };
    steps.set(rollout.step, { original: add(cell.original, orig), rescored: add(cell.rescored, total) });
    const category = prompts.get(rollout.promptId)?.category ?? 'unknown';
    const c = categories.get(category) ?? { original: empty(), rescored: empty() };
    categories.set(category, { original: add(c.original, orig), rescored: add(c.rescored, total) });
    origAll = add(origAll, orig);
    both = add(both, total);
    cross += orig * total;
    if (Math.sign(orig) === Math.sign(total)) agree++;
  }
  const covariance = cross / Math.max(both.n, 1) - mean(origAll) * mean(both);
  return {
    sourceRunId,
    streamId,
    rewardId: reward.rewardId,
    rewardVersion: reward.rewardVersion,
    originalRewardId,
    rollouts: scores.length,
    failed: failures.length,
    failures: failures.slice(0, 5).map((f) => `${f.rolloutId}: ${f.error}`),
    correlation: covariance / (std(origAll) * std(both)),
    signAgreement: agree / Math.max(scores.length, 1),
    perStep: [...steps]
      .sort(([a], [b]) => a - b)
      .map(([step, s]) => ({
        step,
        original: { mean: mean(s.original), std: std(s.original) },
        rescored: { mean: mean(s.rescored), std: std(s.rescored) },
      })),
    perCategory: [...categories]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([category, s]) => ({
        category,
        rollouts: s.original.n,
        original: mean(s.original),
        rescored: mean(s.rescored),
      })),
  };
}
