import type { PayloadOf } from '@recon/contracts';
import { deterministicEventId, isConnectionLoss, type RecordedEvent } from '@recon/eventlog';
import {
  CURRICULUM_CATEGORY_NAMES,
  GAME_CURRICULUM_CATEGORY_NAMES,
  generateCurriculum,
  goldShapeOf,
  isCurriculumCategory,
  type CurriculumCategory,
  type CurriculumItem,
} from '@recon/econ';
import { experimentConfigSchema, type ExperimentConfig } from '@recon/experiment';
import type { Consumer, EventBus } from '@recon/transport';
import { importDataset } from './import-dataset';
import { dataProducer } from './producer';
import { registerDatasetRows, type Registration } from './register-rows';
import type { DataStores } from './stores';
import { join } from 'node:path';

type Resolved = PayloadOf<'dataset.resolved'>['datasets'][number];

/** A generated item as a problem row (what GRPO prompts and evaluation read) and as an SFT trace row. */
function problemRow(item: CurriculumItem, index: number) {
  return {
    index,
    itemId: item.id,
    category: item.category,
    messages: item.messages ?? [{ role: 'user' as const, content: item.prompt }],
    gold: item.answer,
    goldShape: goldShapeOf(item.answer),
  };
}

function traceRow(item: CurriculumItem, index: number) {
  return {
    index,
    itemId: item.id,
    category: item.category,
    prompt: item.prompt,
    // Game-format items are asked with the evaluation's system turn: SFT encodes the same chat.
    ...(item.messages ? { messages: item.messages } : {}),
    response: item.trace,
    gold: item.answer,
  };
}

function countBy(items: readonly CurriculumItem[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[item.category] = (counts[item.category] ?? 0) + 1;
  return counts;
}

/**
 * The data service's part of a run: on `run.requested` it generates or imports the run's datasets,
 * registers each version, and pins them to the run with `dataset.resolved`.
 */
export class RunDatasetsWorker {
  private consumer: Consumer | null = null;

  constructor(
    private readonly stores: DataStores,
    private readonly bus: EventBus,
  ) {}

  async start(): Promise<void> {
    this.consumer = await this.bus.subscribe({ group: 'data', types: ['run.requested'] }, (event) =>
      this.handle(event),
    );
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }

  private async handle(event: RecordedEvent): Promise<void> {
    const runId = event.streamId;
    const request = event.payload as PayloadOf<'run.requested'>;
    // Only a run whose stream holds nothing but its request is waiting for data: a run already resolved,
    // failed, or recorded whole (an imported or synthetic record) is left as it is.
    if ((await this.stores.eventStore.streamVersion(runId)) > 1) {
      const later = await this.stores.eventStore.readStream(runId, {
        fromPosition: 2,
        types: ['dataset.resolved', 'run.failed', 'run.completed', 'sft.step.completed'],
      });
      if (later.length > 0) return;
    }
    let datasets: Resolved[];
    try {
      const config = experimentConfigSchema.parse(request.config);
      datasets = request.parent
        ? await this.parentDatasets(request.parent.runId)
        : await this.resolve(config, request.seed);
    } catch (error) {
      // PostgreSQL away for longer than the retries: not the run's failure; the service restarts.
      if (isConnectionLoss(error)) throw error;
      await this.stores.eventStore.append(
        runId,
        [
          {
            eventId: deterministicEventId(runId, 'run.failed', 'data'),
            type: 'run.failed',
            payload: { phase: 'data', error: (error as Error).message },
          },
        ],
        { expectedVersion: 'any', producer: dataProducer() },
      );
      return;
    }
    await this.stores.eventStore.append(
      runId,
      [
        {
          eventId: deterministicEventId(runId, 'dataset.resolved'),
          type: 'dataset.resolved',
          causationId: event.eventId,
          payload: { datasets },
        },
      ],
      { expectedVersion: 'any', producer: dataProducer() },
    );
  }

  /** A fork continues its parent's training: it uses exactly the dataset versions the parent resolved. */
  private async parentDatasets(parentRunId: string): Promise<Resolved[]> {
    const [resolved] = await this.stores.eventStore.readStream(parentRunId, { types: ['dataset.resolved'] });
    if (!resolved) throw new Error(`fork: the parent run ${parentRunId} has no resolved datasets`);
    return (resolved.payload as PayloadOf<'dataset.resolved'>).datasets;
  }

  private async resolve(config: ExperimentConfig, seed: number): Promise<Resolved[]> {
    const resolved: Resolved[] = [];
    const pin = (role: Resolved['role'], r: Registration) => resolved.push({ role, ...r });
    const curriculum = config.datasets.curriculum;
    if (curriculum) {
      const unknown = (curriculum.categories ?? []).filter((c) => !isCurriculumCategory(c));
      if (unknown.length > 0)
        throw new Error(`datasets.curriculum.categories: unknown ${unknown.map((c) => `'${c}'`).join(', ')}`);
      const categories = curriculum.categories as CurriculumCategory[] | undefined;
      // Items per category so that the split holds the configured total (rounded up to a whole round).
      const perCategory = (total: number) => Math.ceil(total / (categories ?? CURRICULUM_CATEGORY_NAMES).length);
      const test = generateCurriculum({
        categories,
        split: 'test',
        perCategory: perCategory(curriculum.testItems),
        seed,
      });
      const train = generateCurriculum({
        categories,
        split: 'train',
        perCategory: perCategory(curriculum.trainItems),
        seed,
        exclude: new Set(test.map((i) => i.prompt)),
      });
      // Categories the run names already are not drawn twice.
      const games = GAME_CURRICULUM_CATEGORY_NAMES.filter((c) => !categories?.includes(c));
      if (curriculum.gameTrainItems && games.length > 0) {
        train.push(
          ...generateCurriculum({
            categories: games,
            split: 'train',
            count: Math.ceil(curriculum.gameTrainItems / games.length),
            seed,
          }),
        );
      }
      const common = { source: `curriculum seed ${seed}`, format: 'generated' as const };
      pin(
        'sft',
        await registerDatasetRows(this.stores, {
          ...common,
          name: 'curriculum-train-traces',
          kind: 'traces',
          split: 'sft',
          rows: train.map(traceRow),
          categories: countBy(train),
        }),
      );
      pin(
        'grpo',
        await registerDatasetRows(this.stores, {
          ...common,
          name: 'curriculum-train',
          kind: 'problems',
          split: 'train',
          rows: train.map(problemRow),
          categories: countBy(train),
        }),
      );
      pin(
        'eval',
        await registerDatasetRows(this.stores, {
          ...common,
          name: 'curriculum-test',
          kind: 'problems',
          split: 'test',
          rows: test.map(problemRow),
          categories: countBy(test),
        }),
      );
    }
    const recon = config.datasets.recon;
    if (recon) {
      const imported = async (file: string, split: 'train' | 'eval' | 'sft') =>
        importDataset({ file: join(recon.path, file), split, skipInvalid: split === 'sft' }, this.stores);
      const { name, versionHash, blobHash, rowCount, split } = await imported(recon.eval, 'eval');
      pin('eval', { name, versionHash, blobHash, rowCount, split });
      if (!curriculum) {
        const sft = await imported(recon.sft, 'sft');
        pin('sft', {
          name: sft.name,
          versionHash: sft.versionHash,
          blobHash: sft.blobHash,
          rowCount: sft.rowCount,
          split: sft.split,
        });
        const train = await imported(recon.train, 'train');
        pin('grpo', {
          name: train.name,
          versionHash: train.versionHash,
          blobHash: train.blobHash,
          rowCount: train.rowCount,
          split: train.split,
        });
      }
    }
    return resolved;
  }
}
