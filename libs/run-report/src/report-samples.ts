import type { PayloadOf } from '@recon/contracts';
import type { RecordedEvent } from '@recon/eventlog';
import { quote, sampleBlock } from './report-format';
import type { ScoredItem } from './stage-changes';

type Move = PayloadOf<'game.move'>;
type Finished = PayloadOf<'game.finished'>;

const strictlyRight = (i: ScoredItem) => i.verdicts?.exact ?? i.correct;
const verdictText = (i: ScoredItem) =>
  i.verdicts
    ? `strict ${i.verdicts.exact ? 'right' : 'wrong'}, paper's grader ${i.verdicts.paper ? 'right' : 'wrong'}`
    : `recorded ${i.correct ? 'right' : 'wrong'}`;

/**
 * A few completions per stage, as a reader checks what the numbers mean: one graded right, one graded wrong
 * (preferring one the two graders disagree on), and one game reply (preferring an invalid one when most are).
 */
export function samplesSection(events: readonly RecordedEvent[], stages: readonly string[]): string[] {
  const items = events.filter((e) => e.type === 'evaluation.item.scored').map((e) => e.payload as ScoredItem);
  const stageOf = new Map(
    events
      .filter((e) => e.type === 'game.finished')
      .map((e) => [(e.payload as Finished).matchId, (e.payload as Finished).stage]),
  );
  const moves = events
    .filter((e) => e.type === 'game.move')
    .map((e) => e.payload as Move)
    // Free-form replies: what the policy writes when nothing constrains it (v2 moves may name another decoding).
    .filter(
      (m) =>
        m.actor === 'agent' &&
        m.rawText !== undefined &&
        ((m as { decoding?: string }).decoding ?? 'free') === 'free',
    );
  const out: string[] = [];
  for (const stage of stages) {
    const own = items.filter((i) => i.stage === stage);
    const right = own.find(strictlyRight);
    const wrong =
      own.find((i) => !strictlyRight(i) && i.verdicts?.paper) ?? own.find((i) => !strictlyRight(i));
    const replies = moves.filter((m) => stageOf.get(m.matchId) === stage);
    const legal = replies.filter((m) => m.legal);
    const reply = legal.length * 2 >= replies.length ? legal[0] : replies.find((m) => !m.legal);
    if (!right && !wrong && !reply) continue;
    out.push(`### ${stage}`, '');
    for (const [title, item] of [
      ['graded right', right],
      ['graded wrong', wrong],
    ] as const) {
      if (!item) {
        out.push(`- ${title}: none among ${own.length} items`, '');
        continue;
      }
      out.push(
        `- ${title} (${item.suite} \`${item.itemId}\`, ${item.category}; gold ${quote(item.gold, 80)}; final answer read ${item.parsedAnswer === null ? 'none' : quote(item.parsedAnswer, 80)}; ${verdictText(item)}):`,
        '',
        ...sampleBlock(item.completion),
        '',
      );
    }
    if (reply)
      out.push(
        `- game reply (${reply.game}, ply ${reply.ply}, attempt ${reply.attempt ?? 0}; ${reply.legal ? `parsed as ${reply.parsedMove}` : 'not a legal move'}; ${legal.length} of ${replies.length} game replies at this stage legal):`,
        '',
        ...sampleBlock(reply.rawText ?? ''),
        '',
      );
  }
  return out.length > 0 ? ['## Sample completions', '', ...out] : [];
}
