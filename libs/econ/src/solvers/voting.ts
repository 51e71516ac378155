/** A bloc of voters sharing one ranking (best first); candidates left out rank below every listed one. */
export interface Ballot {
  voters: number;
  ranking: readonly string[];
}

export interface PairwiseResult {
  a: string;
  b: string;
  /** Voters preferring a to b, and b to a. */
  forA: number;
  forB: number;
}

/**
 * How a ballot that leaves candidates out is read: `below` (the default), every unlisted candidate ranks
 * below every listed one; `abstain`, the ballot takes no side in a pair with an unlisted candidate.
 */
export type PartialBallotReading = 'below' | 'abstain';

/** Head-to-head counts for every pair (in candidate order) and the candidate beating every other one, or null. */
export function condorcetWinner(
  candidates: readonly string[],
  ballots: readonly Ballot[],
  reading: PartialBallotReading = 'below',
): { winner: string | null; pairwise: PairwiseResult[] } {
  if (new Set(candidates).size !== candidates.length || candidates.length < 2) throw new Error('condorcet: need at least two distinct candidates');
  ballots.forEach((b, k) => {
    if (!(Number.isInteger(b.voters) && b.voters >= 0)) throw new Error(`condorcet: ballot ${k} has ${b.voters} voters`);
    const unknown = b.ranking.filter((c) => !candidates.includes(c));
    if (unknown.length > 0) throw new Error(`condorcet: ballot ${k} ranks unknown candidate(s) ${unknown.join(', ')}`);
    if (new Set(b.ranking).size !== b.ranking.length) throw new Error(`condorcet: ballot ${k} lists a candidate twice`);
  });
  const rank = (b: Ballot, c: string) => {
    const at = b.ranking.indexOf(c);
    return at < 0 ? Infinity : at;
  };
  const pairwise: PairwiseResult[] = [];
  for (let i = 0; i < candidates.length; i++) {
    for (let j = i + 1; j < candidates.length; j++) {
      const [a, b] = [candidates[i], candidates[j]];
      let forA = 0;
      let forB = 0;
      for (const ballot of ballots) {
        const [ra, rb] = [rank(ballot, a), rank(ballot, b)];
        if (reading === 'abstain' && (ra === Infinity || rb === Infinity)) continue;
        if (ra < rb) forA += ballot.voters;
        else if (rb < ra) forB += ballot.voters;
      }
      pairwise.push({ a, b, forA, forB });
    }
  }
  const beats = (x: string, y: string) =>
    pairwise.some((p) => (p.a === x && p.b === y && p.forA > p.forB) || (p.a === y && p.b === x && p.forB > p.forA));
  const winner = candidates.find((x) => candidates.every((y) => y === x || beats(x, y))) ?? null;
  return { winner, pairwise };
}
