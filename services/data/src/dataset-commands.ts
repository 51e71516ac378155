import { Command } from 'commander';
import type { EventType } from '@recon/contracts';
import type { RecordedEvent } from '@recon/eventlog';
import { checkDatasetGold } from './gold-corrections';
import type { DataStores } from './stores';

type OpenStores = () => Promise<DataStores & { close(): Promise<void> }>;

export interface ListedDataset {
  name: string;
  versionHash: string;
  split: string;
  format: string;
  rowCount: number;
  source: string;
  registeredAt: string;
  skippedRows: number;
  /** `dataset.gold.corrected` events recorded for the version. */
  goldCorrections: number;
  /** Where a derived version's rows came from (`dataset.derived`): its kind and source versions. */
  derivedFrom?: { kind: string; versions: string[] };
}

const PAGE = 1000;

async function eventsOfTypes<T extends EventType>(stores: DataStores, types: readonly T[]): Promise<RecordedEvent<T>[]> {
  const events: RecordedEvent<T>[] = [];
  for (let after = 0; ;) {
    const page = await stores.eventStore.readAll(after, PAGE, { types });
    events.push(...page);
    if (page.length < PAGE) return events;
    after = page[page.length - 1].globalPosition;
  }
}

/** Every registered dataset version, in registration order, with its gold corrections and lineage. */
export async function listDatasets(stores: DataStores): Promise<ListedDataset[]> {
  const events = await eventsOfTypes(stores, [
    'dataset.registered',
    'dataset.gold.corrected',
    'dataset.derived',
  ]);
  const corrections = new Map<string, number>();
  const derived = new Map<string, ListedDataset['derivedFrom']>();
  for (const e of events) {
    if (e.type === 'dataset.gold.corrected') {
      const version = e.payload.datasetVersion;
      corrections.set(version, (corrections.get(version) ?? 0) + 1);
    } else if (e.type === 'dataset.derived') {
      const { versionHash, from } = e.payload;
      const versions =
        from.kind === 'concatenation'
          ? from.parts.map((p) => p.versionHash)
          : 'sourceVersionHash' in from
            ? [from.sourceVersionHash]
            : [];
      derived.set(versionHash, { kind: from.kind, versions });
    }
  }
  return events
    .filter((e) => e.type === 'dataset.registered')
    .map((e) => {
      const p = e.payload;
      const from = derived.get(p.versionHash);
      return {
        name: p.name,
        versionHash: p.versionHash,
        split: p.split,
        format: p.format,
        rowCount: p.rowCount,
        source: p.source,
        registeredAt: e.occurredAt,
        skippedRows: p.skippedRows ?? 0,
        goldCorrections: corrections.get(p.versionHash) ?? 0,
        ...(from ? { derivedFrom: from } : {}),
      };
    });
}

/** A registered version named by its hash, a unique prefix of it (8+ characters), or its name (the latest of that name). */
export async function findDataset(stores: DataStores, ref: string): Promise<ListedDataset> {
  const all = await listDatasets(stores);
  const exact = all.find((d) => d.versionHash === ref);
  if (exact) return exact;
  const prefixed = /^[0-9a-f]{8,63}$/.test(ref) ? all.filter((d) => d.versionHash.startsWith(ref)) : [];
  if (prefixed.length === 1) return prefixed[0];
  if (prefixed.length > 1)
    throw new Error(`dataset '${ref}': ${prefixed.length} versions start with it; give more of the hash`);
  const named = all.filter((d) => d.name === ref);
  if (named.length > 0) return named[named.length - 1];
  throw new Error(
    `dataset '${ref}': no registered version has that hash or name (see \`recon dataset list\`)`,
  );
}

function formatList(datasets: readonly ListedDataset[]): string {
  if (datasets.length === 0) return 'no dataset registered (recon dataset import <file>)\n';
  const head = ['name', 'split', 'format', 'rows', 'skipped', 'gold fixes', 'registered', 'version'];
  const rows = datasets.map((d) => [
    d.derivedFrom ? `${d.name} (${d.derivedFrom.kind})` : d.name,
    d.split,
    d.format,
    String(d.rowCount),
    String(d.skippedRows),
    String(d.goldCorrections),
    d.registeredAt.slice(0, 19).replace('T', ' '),
    d.versionHash,
  ]);
  const widths = head.map((_, i) => Math.max(...[head, ...rows].map((r) => r[i].length)));
  return (
    [head, ...rows]
      .map((r) =>
        r
          .map((cell, i) => cell.padEnd(widths[i]))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** `dataset list`: every registered version with its hash, row count, skipped rows and gold corrections. */
export function datasetListCommand(openStores: OpenStores, out: (text: string) => void): Command {
  return new Command('list')
    .alias('ls')
    .description(
      'List the registered dataset versions: name, split, rows, skipped rows, gold corrections, hash',
    )
    .option('--json', 'print the list as JSON')
    .action(async (options: { json?: boolean }) => {
      const stores = await openStores();
      try {
        const datasets = await listDatasets(stores);
        out(options.json ? `${JSON.stringify(datasets)}\n` : formatList(datasets));
      } finally {
        await stores.close();
      }
    });
}

/**
 * `dataset check-gold <dataset>`: solves the checkable problems of a registered version, records the check
 * and, with `--correct`, the corrections of the golds no reading of their problem gives.
 */
export function checkGoldCommand(openStores: OpenStores, out: (text: string) => void): Command {
  return new Command('check-gold')
    .argument('<dataset>', 'a registered problem version: its hash, a unique prefix, or its name')
    .description(
      "Check a dataset's gold labels against the solvers (recorded as dataset.gold.checked); --correct records the corrections runs apply from then on",
    )
    .option(
      '--correct',
      'record a dataset.gold.corrected event for every gold that no reading of its problem gives (to the answer all readings give, or withdrawn when they differ)',
    )
    .option('--json', 'print the check as JSON')
    .action(async (ref: string, options: { correct?: boolean; json?: boolean }) => {
      const stores = await openStores();
      try {
        const dataset = await findDataset(stores, ref);
        const outcome = await checkDatasetGold(stores, dataset.versionHash, { correct: options.correct });
        if (options.json) {
          out(`${JSON.stringify(outcome)}\n`);
          return;
        }
        const lines = [`gold check of ${dataset.name} (${dataset.versionHash}), recorded:`];
        for (const c of outcome.check.categories)
          lines.push(
            `  ${c.category}: ${c.checked} solved, ${c.agreed} confirmed, ${c.disagreed} not confirmed, ${c.unparsed} unreadable`,
          );
        for (const d of outcome.check.disagreements)
          lines.push(
            `  row ${d.rowIndex} [${d.category}] ${d.verdict}: gold ${d.gold} | computed ${d.computed}${d.correction ? ` -> correction ${d.correction}` : ''}`,
          );
        const wrong = outcome.check.disagreements.filter((d) => d.verdict === 'disagrees').length;
        lines.push(
          options.correct
            ? `${outcome.corrected.length} correction(s) recorded now (${wrong} gold(s) wrong under every reading); runs resolved from now on use the corrected golds`
            : `${wrong} gold(s) wrong under every reading; --correct records their corrections`,
        );
        out(`${lines.join('\n')}\n`);
      } finally {
        await stores.close();
      }
    });
}
