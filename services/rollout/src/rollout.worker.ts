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

  constructor(private readonly options: { eventStore: EventStore; blobStore: BlobStore; bus: EventBus }) {}

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

  private async handle(event: RecordedEventOf<'rollout.shard.requested'>, run: RunRequest): Promise<void> {
    const runId = event.streamId;
    const request = event.payload;
    // The policy loads while the run's state is read (an ended run leaves it unused, a failed load unread).
    const policy = readCheckpointPolicy(this.options.blobStore, request.policyVersion);
    policy.catch(() => undefined);
    if (await runHasEnded(this.options.eventStore, runId)) return;
    const { config } = run;
    const checkpoint = await policy;
    const { tokenizer } = checkpoint;
    const context = checkpoint.model.context;
    const maxTokens = Math.min(request.sampling.maxTokens, context - 2);
    const samples: Array<{ promptId: string; groupIndex: number; seed: number; promptIds: number[] }> = [];
    for (const prompt of request.prompts) {
      const row = (await this.rows(prompt.datasetVersion))[prompt.rowIndex];
      if (!row) throw new Error(`dataset ${prompt.datasetVersion} has no row ${prompt.rowIndex}`);
      const { ids } = promptTokens(tokenizer, row.messages, context, Math.min(maxTokens, context - 2));
      for (let g = 0; g < request.groupSize; g++)
        samples.push({
          promptId: prompt.promptId,
          groupIndex: g,
          seed: deriveSeed(request.seed, prompt.promptId, g),
          promptIds: ids,
        });
    }
    const backend = activeBackend() ?? (await selectBackend('auto'));
    const workers = resolveWorkerCount(config.policy.kind === 'builtin' ? config.policy.workers : undefined);
    const pool = await policyComputePool(backend, workers);
    const started = performance.now();
    // Sampled on the compute workers, off this event loop; each completion depends only on its prompt and seed.
    const completions = await generateOnPool(
      pool,
      checkpointPoolPolicy(checkpoint),
      samples.map((s) => ({ promptIds: s.promptIds, seed: s.seed })),
      {
        temperature: request.sampling.temperature,
        topP: request.sampling.topP,
        topK: request.sampling.topK,
        maxTokens,
        stop: request.sampling.stop,
        stopTokenIds: [tokenizer.specialTokens.eos],
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
          computeWorkers: pool.size,
        },
      };
    });
    await this.options.eventStore.append(runId, events, {
      expectedVersion: 'any',
      producer: rolloutProducer(),
    });
  }
}
