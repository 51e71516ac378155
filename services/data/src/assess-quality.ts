import type { PayloadOf } from '@recon/contracts';
import { checkGoldRows, type ProblemRow } from '@recon/econ';
import type { CorrectedVersion } from './gold-corrections';

type Quality = PayloadOf<'dataset.quality.assessed'>;
type Role = PayloadOf<'dataset.resolved'>['datasets'][number]['role'];

/** A row as any dataset holds it: a problem (messages) or a trace (prompt, or its chat in messages). */
export interface AnyRow {
  index?: number;
  messages?: Array<{ content: string }>;
  prompt?: string;
  gold?: string;
}

/** A resolved dataset with its rows; `gold`: the imported problem versions it holds, whose golds are checked. */
export interface AssessedDataset {
  role: Role;
  name: string;
  versionHash: string;
  rows: readonly AnyRow[];
  gold?: ReadonlyArray<GoldSource>;
}

/** An imported problem version whose golds are checked: its rows, and the corrections the run applies to it. */
export interface GoldSource {
  source: { name: string; versionHash: string; rows: readonly ProblemRow[] };
  corrections: CorrectedVersion;
}

/** The text a row asks: its chat turns joined, or its prompt. */
export function askedText(row: AnyRow): string {
  return (row.messages ? row.messages.map((m) => m.content).join('\n') : (row.prompt ?? '')).trim();
}

const rowNumber = (row: AnyRow, position: number) => (typeof row.index === 'number' ? row.index : position);

function duplicates(rows: readonly AnyRow[]): Quality['datasets'][number]['duplicatePrompts'] {
  const byPrompt = new Map<string, number[]>();
  rows.forEach((row, i) => {
    const text = askedText(row);
    byPrompt.set(text, [...(byPrompt.get(text) ?? []), i]);
  });
  const groups = [...byPrompt.values()].filter((g) => g.length > 1);
  return {
    prompts: groups.length,
    extraRows: groups.reduce((n, g) => n + g.length - 1, 0),
    conflictingGolds: groups.filter((g) => new Set(g.map((i) => rows[i].gold)).size > 1).length,
    examples: groups.slice(0, 20).map((g) => g.map((i) => rowNumber(rows[i], i))),
  };
}

/**
 * What a run's datasets hold that a reader of its results must know: duplicate prompts in each set, eval
 * prompts that a training set (SFT or GRPO) holds verbatim, and per imported problem set the gold corrections
 * applied and the golds the checkers do not confirm that no correction covers.
 */
export function assessQuality(datasets: readonly AssessedDataset[]): Quality {
  const evalSets = datasets.filter((d) => d.role === 'eval');
  const trainSets = datasets.filter((d) => d.role !== 'eval');
  const overlaps = evalSets.flatMap((evalSet) =>
    trainSets.map((train) => {
      const asked = new Set(train.rows.map(askedText));
      const shared = evalSet.rows.flatMap((row, i) => (asked.has(askedText(row)) ? [rowNumber(row, i)] : []));
      return {
        train: { role: train.role, name: train.name },
        eval: { name: evalSet.name },
        evalRows: shared.length,
        examples: shared.slice(0, 200),
      };
    }),
  );
  const gold = datasets.flatMap((d) =>
    (d.gold ?? []).map(({ source, corrections }) => {
      const check = checkGoldRows(source.rows);
      const corrected = new Set(corrections.applied.map((c) => c.payload.rowIndex));
      return {
        role: d.role,
        name: source.name,
        versionHash: source.versionHash,
        categories: check.categories,
        corrected: corrections.applied.map(({ payload: c }) => ({
          rowIndex: c.rowIndex,
          from: c.originalGold,
          to: c.correctedGold,
          checker: `${c.checker.name}@${c.checker.version}`,
        })),
        open: check.disagreements
          .filter((f) => !corrected.has(f.rowIndex))
          .map((f) => ({ ...f, evidence: f.evidence.slice(0, 4000) })),
      };
    }),
  );
  return {
    datasets: datasets.map((d) => ({
      role: d.role,
      name: d.name,
      versionHash: d.versionHash,
      rowCount: d.rows.length,
      duplicatePrompts: duplicates(d.rows),
    })),
    overlaps,
    gold,
  };
}
