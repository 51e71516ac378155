import { solveBackwardInduction, type GameTree } from '../../solvers/backward-induction';
import type { ProblemGenerator } from '../problem';

const MOVERS = ['A', 'B', 'A'] as const;

/**
 * A three-round take-or-pass negotiation (A, then B, then A; passing in round 3 goes to an arbitrator). The
 * question asks what the mover of one round does in the subgame-perfect plan, or how the game ends; the answer
 * is drawn first and ties are rejected.
 */
export const backwardInduction: ProblemGenerator = (rng, inSplit) => {
  const scale = rng.pick([1, 100, 1000]);
  const leaves = Array.from({ length: 4 }, () => [rng.int(1, 9), rng.int(1, 9)]);
  // round 0 asks how the game ends (four outcomes); rounds 1-3 ask what that round's mover does.
  const round = rng.int(0, 3);
  const wanted = round === 0 ? rng.int(0, 3) : rng.int(0, 1);
  const family = `backward_induction|${JSON.stringify(leaves)}`;
  if (!inSplit(family)) return null;
  const tree = leaves
    .slice(0, 3)
    .reduceRight<GameTree>(
      (next, payoffs, r) => ({ kind: 'decision', player: r === 1 ? 1 : 0, name: `round ${r + 1}`, moves: [{ action: 'stop', next: { kind: 'leaf', payoffs } }, { action: 'pass', next }] }),
      { kind: 'leaf', payoffs: leaves[3] },
    );
  const { plan } = solveBackwardInduction(tree);
  if (plan.some((d) => d.tie)) return null;
  const choice = (r: number) => plan.find((d) => d.name === `round ${r}`)!.action;
  const ending = [1, 2, 3].find((r) => choice(r) === 'stop') ?? 4;
  if ((round === 0 ? ending - 1 : choice(round) === 'stop' ? 0 : 1) !== wanted) return null;
  const mover = MOVERS[Math.max(round, 1) - 1];
  const money = (x: number) => `$${x * scale}`;
  const deal = ([a, b]: number[]) => `A gets ${money(a)} and B gets ${money(b)}`;
  // Solve from the last round back: what the mover of round r gets from stopping vs from what follows.
  let ahead = leaves[3];
  const reasoning = [3, 2, 1].map((r) => {
    const who = r === 2 ? 1 : 0;
    const stop = leaves[r - 1];
    const act = choice(r);
    const line = {
      full: `Round ${r}: ${MOVERS[r - 1]} gets ${money(stop[who])} by accepting and ${money(ahead[who])} by passing, so ${MOVERS[r - 1]} ${act === 'stop' ? 'accepts' : 'passes'}.`,
      // Both outcomes copied beside each other, then the mover's two payoffs: one local comparison per round.
      compact: `R${r} ${MOVERS[r - 1]}: stop(${stop}) pass(${ahead}): ${stop[who]} vs ${ahead[who]} -> ${act}.`,
    };
    if (act === 'stop') ahead = stop;
    return line;
  });
  return {
    key: `backward_induction|${scale}|${JSON.stringify(leaves)}|${round}`,
    family,
    full: {
      question:
        `Players A and B negotiate over three rounds. In round 1, A can accept the current deal (${deal(leaves[0])}) or pass to B. ` +
        `In round 2, B can accept a deal where ${deal(leaves[1])}, or pass back to A. In round 3, A can accept a deal where ${deal(leaves[2])}, ` +
        `or pass to an arbitrator who imposes terms where ${deal(leaves[3])}. Both players maximise their own payoff and know everything above. ` +
        (round === 0 ? 'How does the negotiation end?' : `In round ${round}, what should Player ${mover} do?`),
      steps: [...reasoning.map((l) => l.full), `On the equilibrium path ${ending === 4 ? 'everyone passes and the arbitrator decides' : `${MOVERS[ending - 1]} accepts in round ${ending}`}.`],
    },
    compact: {
      question: `Take-or-pass: R1 A stop(${leaves[0]}) R2 B stop(${leaves[1]}) R3 A stop(${leaves[2]}) else (${leaves[3]}). Payoffs (A,B). ${round === 0 ? 'Ends how?' : `R${round} move?`}`,
      steps: [...reasoning.map((l) => l.compact), `Ends ${ending === 4 ? 'arbitrator' : `R${ending}`}.`],
    },
    answer:
      round === 0
        ? {
            kind: 'choice',
            options: [
              { full: 'A accepts in round 1', compact: 'R1 stop' },
              { full: 'B accepts in round 2', compact: 'R2 stop' },
              { full: 'A accepts in round 3', compact: 'R3 stop' },
              { full: 'The arbitrator imposes terms', compact: 'arbitrator' },
            ],
            correct: wanted,
          }
        : {
            kind: 'choice',
            // The third option is never right (ties are redrawn); it keeps a constant guess from scoring 50%.
            options: [
              { full: `Player ${mover} should accept the deal`, compact: 'stop' },
              { full: `Player ${mover} should pass`, compact: 'pass' },
              { full: `Player ${mover} is indifferent`, compact: 'either' },
            ],
            correct: wanted,
          },
  };
};
