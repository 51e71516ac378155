import { performance } from 'node:perf_hooks';
import { hostname } from 'node:os';
import type { Producer } from '@recon/contracts';
import { storableText } from '@recon/contracts';
import {
  deterministicEventId,
  type BlobStore,
  type EventStore,
  type NewEvent,
  type RecordedEventOf,
} from '@recon/eventlog';
import { deriveSeed } from '@recon/games';
import { loadRegisteredDataset } from '@recon/persistence';
import { activeBackend, selectBackend } from '@recon/policy';
import {
  checkpointPoolPolicy,
  generateOnPool,
  policyComputePool,
  promptTokens,
  readCheckpointPolicy,
  resolveWorkerCount,
} from '@recon/policy-runtime';
import type { Consumer, EventBus } from '@recon/transport';
import { ownedStreamsHandler, runHasEnded, type RunRequest } from '@recon/experiment';
import { PretrainedRollouts } from './pretrained-rollouts';
import type { RolloutPolicy } from './rollout-policy';

interface ProblemRowLike {
  messages: Array<{ role: 'system' | 'user' | 'assistant'; content: string }>;
}

export function rolloutProducer(): Producer {
  return { service: 'rollout', version: '0.1.0', instance: `${hostname()}:${process.pid}` };
}

/**
 * The rollout service: answers each `rollout.shard.requested` (a step's rollout work, or one shard of it)
 * with G sampled completions per prompt from the named policy version, each drawn with its own seed (derived
 * from the request's seed, prompt and index), so the same request always yields the same rollouts, however
 * the step is sharded. Event ids are deterministic: redelivery records nothing twice.
 */
export class RolloutWorker {
  private consumer: Consumer | null = null;
  private readonly datasets = new Map<string, Promise<ProblemRowLike[]>>();
  /** Requests are handled one at a time, whatever the bus's concurrency: they share the compute workers. */
  private turn: Promise<unknown> = Promise.resolve();
  private readonly pretrained: PretrainedRollouts;

  constructor(private readonly options: { eventStore: EventStore; blobStore: BlobStore; bus: EventBus }) {
    this.pretrained = new PretrainedRollouts(options);
  }

  async start(): Promise<void> {
    const handle = ownedStreamsHandler<'rollout.shard.requested'>(
      { eventStore: this.options.eventStore, group: 'rollout', producer: rolloutProducer() },
      { run: (event, run) => this.handle(event, run) },
    );
    this.consumer = await this.options.bus.subscribe(
      { group: 'rollout', types: ['rollout.shard.requested'] },
      (event) => {
        const handled = this.turn.then(() => handle(event));
        this.turn = handled.catch(() => undefined);
        return handled;
      },
    );
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    await this.turn;
    this.pretrained.close();
  }

  private rows(versionHash: string): Promise<ProblemRowLike[]> {
    let rows = this.datasets.get(versionHash);
    if (!rows) {
      // A failed load (the database away) is not kept: the next request loads again.
      rows = loadRegisteredDataset<ProblemRowLike>(this.options, versionHash).then(
        (d) => d.rows,
        (error: unknown) => {
          this.datasets.delete(versionHash);
          throw error;
        },
      );
      this.datasets.set(versionHash, rows);
    }
    return rows;
  }

  /** A built-in policy version, sampled on the compute workers, off this event loop. */
  private async builtinPolicy(
    checkpoint: Awaited<ReturnType<typeof readCheckpointPolicy>>,
    run: RunRequest,
  ): Promise<RolloutPolicy> {
    const backend = activeBackend() ?? (await selectBackend('auto'));
    const policy = run.config.policy;
    const pool = await policyComputePool(
      backend,
      resolveWorkerCount(policy.kind === 'builtin' ? policy.workers : undefined),
    );
    const pooled = checkpointPoolPolicy(checkpoint);
    return {
      tokens: checkpoint.tokenizer,
      context: checkpoint.model.context,
      eosId: checkpoint.tokenizer.specialTokens.eos,
      workers: pool.size,
      sample: (requests, options) => generateOnPool(pool, pooled, requests, options),
    };
  }

  private async handle(event: RecordedEventOf<'rollout.shard.requested'>, run: RunRequest): Promise<void> {
    const runId = event.streamId;
    const request = event.payload;
    const pretrained = run.config.policy.kind === 'pretrained';
    // A built-in policy loads while the run's state is read (an ended run leaves it unused, a failed load unread).
    const checkpoint = pretrained
      ? null
      : readCheckpointPolicy(this.options.blobStore, request.policyVersion);
    checkpoint?.catch(() => undefined);
    if (await runHasEnded(this.options.eventStore, runId)) return;
    const policy = checkpoint
      ? await this.builtinPolicy(await checkpoint, run)
      : await this.pretrained.policy(runId, request.policyVersion);
    const { context } = policy;
    const maxTokens = Math.min(request.sampling.maxTokens, context - 2);
    const samples: Array<{ promptId: string; groupIndex: number; seed: number; promptIds: number[] }> = [];
    for (const prompt of request.prompts) {
      const row = (await this.rows(prompt.datasetVersion))[prompt.rowIndex];
      if (!row) throw new Error(`dataset ${prompt.datasetVersion} has no row ${prompt.rowIndex}`);
      const { ids } = promptTokens(policy.tokens, row.messages, context, Math.min(maxTokens, context - 2));
      for (let g = 0; g < request.groupSize; g++)
        samples.push({
          promptId: prompt.promptId,
          groupIndex: g,
          seed: deriveSeed(request.seed, prompt.promptId, g),
          promptIds: ids,
        });
    }
    const started = performance.now();
    // Each completion depends only on its prompt and seed.
    const completions = await policy.sample(
      samples.map((s) => ({ promptIds: s.promptIds, seed: s.seed })),
      {
        temperature: request.sampling.temperature,
        topP: request.sampling.topP,
        topK: request.sampling.topK,
        maxTokens,
        stop: request.sampling.stop,
        stopTokenIds: [policy.eosId],
      },
    );
    // Wall-clock time goes in meta (never the payload, which must replay identically).
    const generationMs = performance.now() - started;
    const events: NewEvent[] = samples.map((sample, i) => {
      const completion = completions[i];
      const rolloutId = `${request.step}/${sample.promptId}/${sample.groupIndex}`;
      return {
        eventId: deterministicEventId(runId, 'rollout.generated', rolloutId),
        type: 'rollout.generated',
        causationId: event.eventId,
        payload: {
          rolloutId,
          step: request.step,
          promptId: sample.promptId,
          groupIndex: sample.groupIndex,
          policyVersion: request.policyVersion,
          seed: sample.seed,
          completion: storableText(completion.text),
          completionTokens: completion.tokens.length,
          tokenIds: completion.tokens,
          truncated: completion.truncated,
          finishReason: completion.finishReason === 'stop' ? 'eos' : 'length',
        },
        meta: {
          generationMs,
          batchSize: samples.length,
          batchIndex: i,
          shard: request.shard,
          computeWorkers: policy.workers,
        },
      };
    });
    await this.options.eventStore.append(runId, events, {
      expectedVersion: 'any',
      producer: rolloutProducer(),
    });
  }
}
