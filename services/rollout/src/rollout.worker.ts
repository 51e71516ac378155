import { performance } from 'node:perf_hooks';
import { hostname } from 'node:os';
import type { PayloadOf, Producer } from '@recon/contracts';
import { storableText } from '@recon/contracts';
import {
  deterministicEventId,
  type BlobStore,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
} from '@recon/eventlog';
import { deriveSeed } from '@recon/games';
import { loadRegisteredDataset } from '@recon/persistence';
import { generate } from '@recon/policy';
import { PolicyCache, promptTokens } from '@recon/policy-runtime';
import type { Consumer, EventBus } from '@recon/transport';
import { runHasEnded } from '@recon/experiment';

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
  private readonly policies: PolicyCache;
  private readonly datasets = new Map<string, Promise<ProblemRowLike[]>>();
  /** Requests are handled one at a time, whatever the bus's concurrency: the policy cache recycles models. */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: { eventStore: EventStore; blobStore: BlobStore; bus: EventBus }) {
    // Each GRPO step names a new checkpoint of the same model: its weights go into the model held.
    this.policies = new PolicyCache(options.blobStore, 1, { recycle: true });
  }

  async start(): Promise<void> {
    this.consumer = await this.options.bus.subscribe(
      { group: 'rollout', types: ['rollout.shard.requested'] },
      (event) => {
        const handled = this.turn.then(() => this.handle(event));
        this.turn = handled.catch(() => undefined);
        return handled;
      },
    );
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    this.policies.clear();
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

  private async handle(event: RecordedEvent): Promise<void> {
    const runId = event.streamId;
    const request = event.payload as PayloadOf<'rollout.shard.requested'>;
    // The policy loads while the run's state is read (an ended run leaves it unused, a failed load unread).
    const policy = this.policies.get(request.policyVersion);
    policy.catch(() => undefined);
    if (await runHasEnded(this.options.eventStore, runId)) return;
    const { model, tokenizer } = await policy;
    const context = model.config.context;
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
    const started = performance.now();
    const completions = generate(
      model,
      tokenizer,
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
        meta: { generationMs, batchSize: samples.length, batchIndex: i, shard: request.shard },
      };
    });
    await this.options.eventStore.append(runId, events, {
      expectedVersion: 'any',
      producer: rolloutProducer(),
    });
  }
}
