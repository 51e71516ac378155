import { condorcetWinner } from '../../solvers/voting';
import type { ProblemGenerator } from '../problem';

const LETTERS = 'ABCDEFGHJKLMNPRSTUVWXYZ';
const SETTINGS = [
  ['In a town election', 'Candidate'],
  ['At a club vote on a new logo', 'Design'],
  ['In a committee choosing a venue', 'Venue'],
  ['At a school vote on a trip destination', 'Place'],
] as const;

/**
 * Three or four candidates, three to five voter blocs (1-9 voters each) with full rankings: the candidate who beats every other
 * head-to-head, or none. Whether there is a winner is drawn first (about one in four has none).
 */
export const condorcetProblem: ProblemGenerator = (rng, inSplit) => {
  const size = rng.int(3, 4);
  const candidates = rng.permutation(LETTERS.length).slice(0, size).map((i) => LETTERS[i]);
  const wantNone = rng.next() < 0.25;
  const ballots = Array.from({ length: rng.int(3, 5) }, () => ({
    voters: rng.int(1, 9),
    ranking: rng.permutation(size).map((i) => candidates[i]),
  }));
  const key = `condorcet|${JSON.stringify(ballots)}`;
  if (!inSplit(key)) return null;
  const { winner, pairwise } = condorcetWinner(candidates, ballots);
  if ((winner === null) !== wantNone) return null;
  const [setting, noun] = rng.pick(SETTINGS);
  const lines = ballots.map((b) => `- ${b.voters} voters voted for ${b.ranking.join(' > ')}`);
  const verdict = (x: { a: string; b: string; forA: number; forB: number }) => (x.forA > x.forB ? x.a : x.forB > x.forA ? x.b : 'tie');
  const conclusion = winner ? `${winner} wins every head-to-head contest.` : 'No candidate wins every head-to-head contest.';
  return {
    key,
    full: {
      question: `${setting}, the options are ${candidates.map((c) => `${noun} ${c}`).join(', ')}. The voters' rankings are:\n${lines.join('\n')}\nWhich option wins according to the Condorcet criterion?`,
      steps: [...pairwise.map((x) => `${x.a} vs ${x.b}: ${x.forA} to ${x.forB}, ${verdict(x) === 'tie' ? 'a tie' : `${verdict(x)} wins`}.`), conclusion],
    },
    compact: {
      question: `Votes ${ballots.map((b) => `${b.voters}:${b.ranking.join('>')}`).join(' ')}. Condorcet winner?`,
      // Each head-to-head written as the blocs' counts summed on each side, then who wins it.
      steps: [
        ...pairwise.map((x) => {
          const side = (a: string, b: string) => ballots.filter((v) => v.ranking.indexOf(a) < v.ranking.indexOf(b)).map((v) => v.voters);
          const sum = (terms: number[]) => (terms.length === 0 ? '0' : terms.length === 1 ? `${terms[0]}` : `${terms.join('+')}=${terms.reduce((u, v) => u + v, 0)}`);
          return `${x.a}-${x.b} ${sum(side(x.a, x.b))} vs ${sum(side(x.b, x.a))} ${verdict(x)}.`;
        }),
        winner ? `${winner} beats all.` : 'None beats all.',
      ],
    },
    answer: {
      kind: 'choice',
      options: [...candidates.map((c) => ({ full: `${noun} ${c}`, compact: c })), { full: 'There is no Condorcet winner', compact: 'none' }],
      correct: winner ? candidates.indexOf(winner) : size,
    },
  };
};
