import type { RecordedEvent } from '@recon/eventlog';
import {
  bradleyTerryRatings,
  deriveSeed,
  wilson,
  type GameFinishedPayload,
  type PairwiseResult,
} from '@recon/games';
import { payloadsOf, rateWithInterval, table } from './report-format';

/** What the pool needs of a recorded `game.finished` (any version: v3 added the text opponent's fields). */
type Played = Pick<GameFinishedPayload, 'matchId' | 'stage' | 'opponent' | 'status' | 'outcome'> &
  Partial<Pick<GameFinishedPayload, 'fault' | 'opponentPolicy'>>;

/** Bootstrap resamples of the report's rating intervals. */
export const RATING_RESAMPLES = 1000;

const signed = (x: number, digits = 0) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;

/** The evaluated stages' checkpoints: an opponent playing one of them is that stage in the pool. */
function stageCheckpoints(events: readonly RecordedEvent[]): Map<string, string> {
  const byHash = new Map<string, string>();
  for (const ready of payloadsOf(events, 'policy.ready'))
    if (!byHash.has(ready.checkpointHash)) byHash.set(ready.checkpointHash, ready.stage);
  return byHash;
}

/** The seed of the run or external evaluation, from its first event. */
function recordedSeed(events: readonly RecordedEvent[]): number {
  const requested = events.find(
    (e) => e.type === 'run.requested' || e.type === 'external.evaluation.requested',
  );
  return (requested?.payload as { seed?: number } | undefined)?.seed ?? 0;
}

/**
 * A match as the pool sees it: the evaluated stage against its opponent (a checkpoint of one of this run's
 * stages is that stage), scored 1/0.5/0 for the stage's win/draw/loss; an abnormal match is a loss for the
 * player whose reply ended it. Null when both sides are the same checkpoint.
 */
export function pairwiseResult(finished: Played, stages: ReadonlyMap<string, string>): PairwiseResult | null {
  const a = finished.stage;
  const b = (finished.opponentPolicy && stages.get(finished.opponentPolicy)) || finished.opponent;
  if (a === b) return null;
  if (finished.status === 'abnormal') return { a, b, score: finished.fault === 'opponent' ? 1 : 0 };
  return { a, b, score: finished.outcome === 'win' ? 1 : finished.outcome === 'draw' ? 0.5 : 0 };
}

/** GTBench's NRA with score function (a) over normal matches: (W - L) / (W + D + L). */
export function nra(finished: readonly Played[]): string {
  const normal = finished.filter((f) => f.status === 'normal');
  if (normal.length === 0) return 'NRA –';
  const wins = normal.filter((f) => f.outcome === 'win').length;
  const losses = normal.filter((f) => f.outcome === 'loss').length;
  return `NRA ${signed((wins - losses) / normal.length, 2)}`;
}

/**
 * The ratings of every player of one decoding's GTBench pool (stages, engines, LLM and checkpoint opponents),
 * Bradley-Terry fitted on all its matches at once, with seeded bootstrap intervals.
 */
export function ratingsLines(events: readonly RecordedEvent[], finished: readonly Played[]): string[] {
  const stages = stageCheckpoints(events);
  const results = finished.flatMap((f) => pairwiseResult(f, stages) ?? []);
  const players = new Set(results.flatMap((r) => [r.a, r.b]));
  if (players.size < 2) return [];
  const seed = deriveSeed(recordedSeed(events), 'gtbench-ratings');
  const ratings = bradleyTerryRatings(results, { seed, resamples: RATING_RESAMPLES });
  return [
    `Ratings over the pool (${players.size} players, ${results.length} matches):`,
    '',
    table(
      ['player', 'rating [95% CI]', 'matches', 'won–drawn–lost'],
      ratings.map((r) => [
        r.player,
        `${signed(r.rating)} [${signed(r.low)}, ${signed(r.high)}]`,
        String(r.matches),
        `${r.wins}–${r.draws}–${r.losses}`,
      ]),
    ),
    '',
    `- Bradley-Terry strengths fitted on every match of the pool at once (every game pooled), on the Elo scale (400 log10 of the odds; 200 points apart = 76% expected score), centred on the pool's mean, with a weak prior of one drawn game per player against a reference. A win scores 1, a draw 0.5; an abnormal match is a loss for the player whose reply ended it. 95% percentile intervals from ${RATING_RESAMPLES} bootstrap resamples of each pairing's matches (seed ${seed}).`,
  ];
}

/**
 * What the text opponents (LLM and checkpoint) did: matches, those their own invalid reply ended, their
 * replies that parsed as a legal move, and the requests to OpenAI-compatible opponents recorded on the stream.
 */
export function textOpponentLines(events: readonly RecordedEvent[], finished: readonly Played[]): string[] {
  const byName = new Map<string, Played[]>();
  for (const f of finished)
    if (f.opponentPolicy !== undefined) byName.set(f.opponent, [...(byName.get(f.opponent) ?? []), f]);
  if (byName.size === 0) return [];
  const matchIds = new Set(finished.map((f) => f.matchId));
  const moves = payloadsOf(events, 'game.move').filter(
    (m) => m.actor === 'opponent' && m.rawText !== undefined && matchIds.has(m.matchId),
  );
  const sent = payloadsOf(events, 'external.request.sent').filter((r) => r.requestId.includes('/opponent#'));
  const answered = payloadsOf(events, 'external.response.received').filter(
    (r) => r.requestId.includes('/opponent#') && r.outcome === 'ok',
  );
  const lines = [...byName].map(([name, list]) => {
    const ids = new Set(list.map((f) => f.matchId));
    const replies = moves.filter((m) => ids.has(m.matchId));
    const legal = replies.filter((m) => m.legal).length;
    const ended = list.filter((f) => f.fault === 'opponent').length;
    const requests = sent.filter((r) => ids.has(r.requestId.slice(0, r.requestId.lastIndexOf('/opponent#'))));
    const answers = answered.filter((r) =>
      ids.has(r.requestId.slice(0, r.requestId.lastIndexOf('/opponent#'))),
    );
    const parsed =
      replies.length === 0
        ? 'no replies recorded'
        : `its replies parsed as a legal move: ${rateWithInterval(wilson(legal, replies.length))} of ${replies.length}`;
    return `- ${name} (${list[0].opponentPolicy}): ${list.length} matches, ${ended} ended by its invalid reply; ${parsed}${requests.length > 0 ? `; ${requests.length} requests recorded, ${answers.length} answered` : ''}.`;
  });
  return [
    'Text opponents (LLM and checkpoint; their replies are parsed like the policy’s):',
    '',
    ...lines,
    '',
  ];
}
