import type { PayloadOf } from '@recon/contracts';
import { deterministicEventId, isConnectionLoss, type RecordedEvent } from '@recon/eventlog';
import { datasetStreamId } from '@recon/persistence';
import { goldShapeOf, type CurriculumItem, type ProblemRow } from '@recon/econ';
import { ownedStreamsHandler, type ExperimentConfig, type RunRequest } from '@recon/experiment';
import type { Consumer, EventBus } from '@recon/transport';
import { curriculumSplits } from './curriculum-splits';
import { assessQuality, type AnyRow, type AssessedDataset, type GoldSource } from './assess-quality';
import { withGoldCorrections } from './gold-corrections';
import { importDataset } from './import-dataset';
import { loadDataset } from './load-dataset';
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
    this.consumer = await this.bus.subscribe(
      { group: 'data', types: ['run.requested'] },
      ownedStreamsHandler(
        { eventStore: this.stores.eventStore, group: 'data', producer: dataProducer() },
        { run: (event, run) => this.handle(event, run) },
      ),
    );
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }

  private async handle(event: RecordedEvent, run: RunRequest): Promise<void> {
    const runId = event.streamId;
    const { request, config } = run;
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
    let quality: PayloadOf<'dataset.quality.assessed'> | undefined;
    try {
      ({ datasets, quality } = request.parent
        ? await this.parentDatasets(request.parent.runId)
        : await this.resolve(config, request.seed));
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
        // What the datasets hold (duplicates, train/eval overlap, golds): recorded before training starts.
        ...(quality
          ? [
              {
                eventId: deterministicEventId(runId, 'dataset.quality.assessed'),
                type: 'dataset.quality.assessed' as const,
                payload: quality,
              },
            ]
          : []),
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
  private async parentDatasets(
    parentRunId: string,
  ): Promise<{ datasets: Resolved[]; quality?: PayloadOf<'dataset.quality.assessed'> }> {
    const events = await this.stores.eventStore.readStream(parentRunId, {
      types: ['dataset.resolved', 'dataset.quality.assessed'],
    });
    const resolved = events.find((e) => e.type === 'dataset.resolved');
    if (!resolved) throw new Error(`fork: the parent run ${parentRunId} has no resolved datasets`);
    const quality = events.find((e) => e.type === 'dataset.quality.assessed');
    return {
      datasets: resolved.payload.datasets,
      ...(quality ? { quality: quality.payload } : {}),
    };
  }

  /**
   * The run's datasets: each source's sets (generated curriculum: SFT traces, GRPO problems, held-out test;
   * Recon: Recon-Eval, Recon-CoT, train problems, with recorded gold corrections applied). A run with both
   * sources trains on both (one SFT and one GRPO set, their rows one after another) and evaluates both eval
   * sets, each its own suite.
   */
  private async resolve(
    config: ExperimentConfig,
    seed: number,
  ): Promise<{ datasets: Resolved[]; quality: PayloadOf<'dataset.quality.assessed'> }> {
    const parts: Part[] = [];
    if (config.datasets.curriculum)
      parts.push(...(await this.curriculumSets(config.datasets.curriculum, seed)));
    if (config.datasets.recon) parts.push(...(await this.reconSets(config.datasets.recon)));
    const datasets: Resolved[] = [];
    const assessed: AssessedDataset[] = [];
    for (const part of parts) {
      const sameRole = parts.filter((p) => p.role === part.role);
      if (part.role !== 'eval' && sameRole[0] !== part) continue; // joined into the first of its role
      const registration =
        part.role !== 'eval' && sameRole.length > 1
          ? await concatenate(
              this.stores,
              sameRole.map((p) => p.registration),
              part.role,
            )
          : part.registration;
      datasets.push({ role: part.role, ...registration });
      assessed.push({
        role: part.role,
        name: registration.name,
        versionHash: registration.versionHash,
        rows: (await loadDataset(this.stores, registration.versionHash)).rows as AnyRow[],
        // Each eval set stands alone; a training set joined from several holds each part's checked golds.
        gold: (part.role === 'eval' ? [part] : sameRole).flatMap((p) => (p.gold ? [p.gold] : [])),
      });
    }
    return { datasets, quality: assessQuality(assessed) };
  }

  private async curriculumSets(
    curriculum: NonNullable<ExperimentConfig['datasets']['curriculum']>,
    seed: number,
  ): Promise<Part[]> {
    const { test, train, grpo: grpoRows } = curriculumSplits(curriculum, seed);
    const common = { source: `curriculum seed ${seed}`, format: 'generated' as const };
    return [
      {
        role: 'sft',
        registration: await registerDatasetRows(this.stores, {
          ...common,
          name: 'curriculum-train-traces',
          kind: 'traces',
          split: 'sft',
          rows: train.map(traceRow),
          categories: countBy(train),
        }),
      },
      {
        role: 'grpo',
        registration: await registerDatasetRows(this.stores, {
          ...common,
          name: curriculum.grpoItems ? 'curriculum-grpo' : 'curriculum-train',
          kind: 'problems',
          split: 'train',
          rows: grpoRows.map(problemRow),
          categories: countBy(grpoRows),
        }),
      },
      {
        role: 'eval',
        registration: await registerDatasetRows(this.stores, {
          ...common,
          name: 'curriculum-test',
          kind: 'problems',
          split: 'test',
          rows: test.map(problemRow),
          categories: countBy(test),
        }),
      },
    ];
  }

  private async reconSets(recon: NonNullable<ExperimentConfig['datasets']['recon']>): Promise<Part[]> {
    const imported = async (file: string, split: 'train' | 'eval' | 'sft'): Promise<Registration> => {
      const { name, versionHash, blobHash, rowCount } = await importDataset(
        { file: join(recon.path, file), split, skipInvalid: split === 'sft' },
        this.stores,
      );
      return { name, versionHash, blobHash, rowCount, split };
    };
    // Problem sets are used with the gold corrections recorded for them (a derived version when there are any).
    const problems = async (role: 'eval' | 'grpo', file: string, split: 'train' | 'eval'): Promise<Part> => {
      const source = await imported(file, split);
      const corrections = await withGoldCorrections(this.stores, source);
      const rows = (await loadDataset(this.stores, source.versionHash)).rows as ProblemRow[];
      return {
        role,
        registration: corrections.registration,
        gold: { source: { name: source.name, versionHash: source.versionHash, rows }, corrections },
      };
    };
    const evalSet = await problems('eval', recon.eval, 'eval');
    const sft: Part = { role: 'sft', registration: await imported(recon.sft, 'sft') };
    return [evalSet, sft, await problems('grpo', recon.train, 'train')];
  }
}

interface Part {
  role: Resolved['role'];
  registration: Registration;
  gold?: GoldSource;
}

/** One version holding the rows of `parts` one after another (each row keeps an item id naming its source). */
async function concatenate(
  stores: DataStores,
  parts: readonly Registration[],
  role: Resolved['role'],
): Promise<Registration> {
  const loaded = await Promise.all(parts.map((p) => loadDataset(stores, p.versionHash)));
  const kind = loaded[0].kind;
  if (loaded.some((d) => d.kind !== kind))
    throw new Error(
      `cannot train ${role} on ${parts.map((p) => p.name).join(' and ')}: they hold different kinds of rows`,
    );
  const rows = loaded.flatMap((d, k) =>
    (d.rows as unknown as Array<Record<string, unknown>>).map((row) => ({
      ...row,
      itemId: typeof row.itemId === 'string' ? row.itemId : `${parts[k].name}/row-${String(row.index)}`,
    })),
  );
  const registration = await registerDatasetRows(stores, {
    name: parts.map((p) => p.name).join('+'),
    kind,
    rows: rows.map((row, index) => ({ ...row, index })),
    source: parts.map((p) => p.name).join(' + '),
    format: 'concatenation',
    split: parts[0].split,
  });
  await stores.eventStore.append(
    datasetStreamId(registration.versionHash),
    [
      {
        eventId: deterministicEventId(datasetStreamId(registration.versionHash), 'dataset.derived'),
        type: 'dataset.derived',
        payload: {
          versionHash: registration.versionHash,
          from: {
            kind: 'concatenation',
            parts: parts.map((p) => ({ name: p.name, versionHash: p.versionHash, rowCount: p.rowCount })),
          },
        },
      },
    ],
    { expectedVersion: 'any', producer: dataProducer() },
  );
  return registration;
}
