import type { ProblemRow } from '../dataset/recon-dataset';
import { tagProblem } from '../tagger/tagger';
import { GOLD_CHECKERS } from './checkers';
import type { CategoryCheck } from './report';

/** The checkers' version: a correction names it, so a later change to a solver is told apart. */
export const GOLD_CHECK_VERSION = '1';

/** The name a correction records for the checker of a category, e.g. `recon-gold-check/Condorcet Criterion`. */
export const goldCheckerName = (category: string) => `recon-gold-check/${category}`;

/**
 * One problem the checkers could solve and whose gold they do not confirm:
 * - `disagrees`: every reading of the prompt gives another answer than the gold; `correction` is that answer
 *   when all readings give the same one (absent when they give different ones);
 * - `reading-dependent`: one reading confirms the gold, another does not.
 */
export interface GoldDisagreement {
  rowIndex: number;
  category: string;
  gold: string;
  verdict: 'disagrees' | 'reading-dependent';
  computed: string;
  correction?: string;
  checker: string;
  evidence: string;
}

export interface RowsGoldCheck {
  categories: CategoryCheck[];
  disagreements: GoldDisagreement[];
}

const promptOf = (row: ProblemRow) => row.messages[row.messages.length - 1].content;

/**
 * Solves every problem of a checkable category (tagged from its prompt) and compares the answer with its gold.
 * A category's `agreed` counts golds every reading confirms; `disagreed` the others.
 */
export function checkGoldRows(rows: readonly ProblemRow[]): RowsGoldCheck {
  const stats = new Map<string, CategoryCheck>();
  const disagreements: GoldDisagreement[] = [];
  rows.forEach((row, rowIndex) => {
    const category = tagProblem(row.messages.map((m) => m.content).join('\n'));
    const checker = GOLD_CHECKERS[category as keyof typeof GOLD_CHECKERS];
    if (!checker) return;
    const stat = stats.get(category) ?? { category, checked: 0, agreed: 0, disagreed: 0, unparsed: 0 };
    stats.set(category, stat);
    const outcome = checker(promptOf(row), row.gold);
    if ('unparsed' in outcome) {
      stat.unparsed++;
      return;
    }
    stat.checked++;
    const other = outcome.otherReading;
    if (outcome.agrees && (!other || other.agrees)) {
      stat.agreed++;
      return;
    }
    stat.disagreed++;
    const everyReadingDisagrees = !outcome.agrees && (!other || !other.agrees);
    const oneAnswer = !other || other.computed === outcome.computed;
    const evidence = [outcome.evidence ?? `computed ${outcome.computed}`, other?.evidence]
      .filter(Boolean)
      .join('; ');
    disagreements.push({
      rowIndex,
      category,
      gold: row.gold,
      verdict: everyReadingDisagrees ? 'disagrees' : 'reading-dependent',
      computed: other && !oneAnswer ? `${outcome.computed} | ${other.computed}` : outcome.computed,
      ...(everyReadingDisagrees && oneAnswer ? { correction: outcome.computed } : {}),
      checker: goldCheckerName(category),
      evidence,
    });
  });
  return {
    categories: [...stats.values()].sort((a, b) => a.category.localeCompare(b.category)),
    disagreements,
  };
}
