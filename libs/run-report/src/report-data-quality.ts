import type { PayloadOf } from '@recon/contracts';
import type { RecordedEvent } from '@recon/eventlog';
import { pct, payloadsOf, quote, table } from './report-format';

type Quality = PayloadOf<'dataset.quality.assessed'>;
type GoldEntry = Quality['gold'][number];

const listed = (rows: readonly number[], max = 12) =>
  rows.length === 0 ? '' : ` (rows ${rows.slice(0, max).join(', ')}${rows.length > max ? ', …' : ''})`;

/** How many SFT traces the context cut before their end, as the first SFT step recorded it. */
function truncationLines(events: readonly RecordedEvent[]): string[] {
  const [first] = payloadsOf(events, 'sft.step.completed');
  if (!first || first.metrics.truncatedAtContext === undefined) return [];
  const resolved = payloadsOf(events, 'dataset.resolved')[0];
  const sftSet = resolved?.datasets.find((d) => d.role === 'sft');
  const initialised = payloadsOf(events, 'policy.initialised')[0];
  const context = initialised?.modelConfig.context as number | undefined;
  const at = context === undefined ? 'the context' : `the context of ${context} tokens`;
  const cut = first.metrics.truncatedAtContext;
  const of = sftSet ? ` of the ${sftSet.rowCount} rows of \`${sftSet.name}\`` : '';
  const share = sftSet && sftSet.rowCount > 0 ? ` (${pct(cut / sftSet.rowCount)})` : '';
  const lines = [
    cut === 0
      ? `- SFT at ${at}: no trace${of} is cut.`
      : `- ${sftSet && cut >= sftSet.rowCount ? '⚠ ' : ''}SFT at ${at}: **${cut}**${of}${share} are longer than the context and were cut before their end, where the final \`\\boxed{}\` answer is: the policy learns their beginning only.`,
  ];
  const shortened = first.metrics.promptsShortened ?? 0;
  if (shortened > 0)
    lines.push(
      `- SFT prompts longer than half the context, kept as their start marker and their end (where the question is): ${shortened}.`,
    );
  const dropped = first.metrics.chatRowsDropped ?? 0;
  if (dropped > 0)
    lines.push(
      `- SFT game-format rows left out because prompt and answer do not fit the context whole: ${dropped}.`,
    );
  return lines;
}

function goldLines(entry: GoldEntry): string[] {
  const out: string[] = [];
  const checked = entry.categories.filter((c) => c.checked + c.unparsed > 0);
  if (checked.length === 0) return [`- \`${entry.name}\`: no problem of a category the solvers check.`];
  out.push(
    `Gold labels of \`${entry.name}\` (${entry.role}) checked against the solvers:`,
    '',
    table(
      ['category', 'solved', 'confirmed', 'not confirmed', 'unreadable'],
      checked.map((c) => [
        c.category,
        String(c.checked),
        String(c.agreed),
        String(c.disagreed),
        String(c.unparsed),
      ]),
    ),
    '',
  );
  if (entry.corrected.length > 0)
    out.push(
      `- Corrected in this run (recorded \`dataset.gold.corrected\`; graded and rewarded with the new gold, the withdrawn rows left out): ${entry.corrected
        .map(
          (c) => `row ${c.rowIndex} ${quote(c.from, 60)} → ${c.to === null ? 'withdrawn' : quote(c.to, 60)}`,
        )
        .join('; ')}.`,
    );
  const wrong = entry.open.filter((d) => d.verdict === 'disagrees');
  const depends = entry.open.filter((d) => d.verdict === 'reading-dependent');
  if (wrong.length > 0)
    out.push(
      `- ⚠ ${wrong.length} gold(s) wrong under every reading and **not corrected** — they still count in grading and reward${listed(wrong.map((d) => d.rowIndex))}; record the corrections with \`recon dataset check-gold ${entry.versionHash} --correct\`.`,
    );
  if (depends.length > 0)
    out.push(
      `- ${depends.length} gold(s) depend on how the problem is read (e.g. ballots that leave candidates out)${listed(depends.map((d) => d.rowIndex))}: kept as they are.`,
    );
  if (entry.corrected.length === 0 && wrong.length === 0 && depends.length === 0)
    out.push('- Every solved gold is confirmed.');
  out.push('');
  return out;
}

/**
 * The data-quality section of a run report: SFT traces cut at the context, duplicate prompts, evaluation
 * prompts that a training set holds, and gold labels the solvers do not confirm (corrected or not), from the
 * run's `dataset.quality.assessed` and its first SFT step.
 */
export function dataQualitySection(events: readonly RecordedEvent[]): string[] {
  const quality = payloadsOf(events, 'dataset.quality.assessed')[0];
  const truncation = truncationLines(events);
  if (!quality && truncation.length === 0) return [];
  const out = ['## Data quality', '', ...truncation];
  if (!quality) {
    out.push(
      '- Duplicates, train/eval overlap and gold checks: not recorded for this run (resolved before `dataset.quality.assessed` existed).',
      '',
    );
    return out;
  }
  if (truncation.length > 0) out.push('');
  out.push(
    'Duplicate prompts (verbatim):',
    '',
    table(
      [
        'dataset',
        'role',
        'rows',
        'prompts asked more than once',
        'rows beyond the first',
        'copies with different golds',
      ],
      quality.datasets.map((d) => [
        `\`${d.name}\``,
        d.role,
        String(d.rowCount),
        String(d.duplicatePrompts.prompts),
        String(d.duplicatePrompts.extraRows),
        String(d.duplicatePrompts.conflictingGolds),
      ]),
    ),
    '',
  );
  for (const o of quality.overlaps) {
    const evalRows = quality.datasets.find((d) => d.role === 'eval' && d.name === o.eval.name)?.rowCount;
    out.push(
      o.evalRows === 0
        ? `- No prompt of \`${o.eval.name}\` appears in \`${o.train.name}\` (${o.train.role}).`
        : `- ⚠ ${o.evalRows}${evalRows === undefined ? '' : ` of the ${evalRows}`} rows of \`${o.eval.name}\` ask a prompt that \`${o.train.name}\` (${o.train.role}) holds verbatim${listed(o.examples)}: trained on, then evaluated.`,
    );
  }
  if (quality.overlaps.length > 0) out.push('');
  for (const entry of quality.gold) out.push(...goldLines(entry));
  return out;
}
