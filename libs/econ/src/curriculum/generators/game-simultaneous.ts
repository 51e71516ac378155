import { pureNashEquilibria, simultaneousPrompt, type Player, type SimultaneousGame } from '@recon/games';
import type { ProblemGenerator } from '../problem';
import { distinctInts, resemblesEvaluationMatrix, sideView } from './game-format';

/** [Alice's choices, Bob's choices]; small games dominate, a few are as large as Duopolistic Competition. */
const SHAPES: ReadonlyArray<readonly [number, number]> = [
  [2, 2], [2, 2], [2, 2], [2, 2],
  [2, 3], [3, 2], [3, 3], [3, 3],
  [4, 4], [5, 5], [6, 6],
];

const argmax = (values: readonly number[]) => values.indexOf(Math.max(...values));

/**
 * A one-round game asked exactly as the complete-information evaluation asks it (`simultaneousPrompt`), as
 * Alice or as Bob. Each player's rewards are distinct against every choice of the other, so best replies are
 * unique. Kept when the game has one pure equilibrium, or one that every other equilibrium is worse than for
 * both players; the gold is the asked player's part of it. The trace lists the asked player's best reply to
 * each choice of the other (with the rewards compared, up to 3x3), then either the dominant choice or the
 * other's best replies and the equilibria.
 */
export const simultaneousGameMove: ProblemGenerator = (rng, inSplit) => {
  const [rows, columns] = rng.pick(SHAPES);
  const lo = rng.pick([-5, -2, 0]);
  const hi = lo + Math.max(rng.pick([5, 9, 14]), Math.max(rows, columns) - 1);
  const alice = Array.from({ length: columns }, () => distinctInts(rng, rows, lo, hi)); // alice[j][i]
  const bob = Array.from({ length: rows }, () => distinctInts(rng, columns, lo, hi)); // bob[i][j]
  const payoffs = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: columns }, (_, j) => [alice[j][i], bob[i][j]] as [number, number]),
  );
  const player: Player = rng.pick(['Alice', 'Bob'] as const);
  const family = `game_simultaneous|${JSON.stringify(payoffs)}`;
  if (!inSplit(family)) return null;
  if (resemblesEvaluationMatrix(payoffs)) return null;

  const view = sideView(payoffs, player); // view[mine][theirs] = [own, other's]
  const equilibria = pureNashEquilibria(view);
  const dominatesAll = ([i, j]: readonly [number, number]) =>
    equilibria.every(([k, l]) => (k === i && l === j) || (view[i][j][0] >= view[k][l][0] && view[i][j][1] >= view[k][l][1]));
  const best = equilibria.filter(dominatesAll);
  if (best.length !== 1) return null;
  const [target] = best;

  const other: Player = player === 'Alice' ? 'Bob' : 'Alice';
  const theirs = view[0].length;
  const myReplies = Array.from({ length: theirs }, (_, j) => argmax(view.map((row) => row[j][0])));
  const theirReplies = view.map((row) => argmax(row.map((cell) => cell[1])));
  // Small games show the rewards compared (copied from the rules, then the larger picked): easier for a small
  // model than naming the best reply outright; large games name it only, to keep the trace short.
  const small = view.length <= 3 && theirs <= 3;
  const mineAgainst = (j: number) => (small ? `${view.map((row) => row[j][0]).join(',')} so ` : '');
  const theirsAgainst = (i: number) => (small ? `${view[i].map((cell) => cell[1]).join(',')} so ` : '');
  const steps = myReplies.map((i, j) => `${other} ${j + 1}: ${mineAgainst(j)}${i + 1}.`);
  if (myReplies.every((i) => i === myReplies[0])) steps.push(`Always ${myReplies[0] + 1}.`);
  else {
    steps.push(...theirReplies.map((j, i) => `Me ${i + 1}: ${theirsAgainst(i)}${other} ${j + 1}.`));
    const cells = equilibria.map(([i, j]) => `${i + 1},${j + 1}`);
    steps.push(`NE ${cells.join(' and ')}.`);
    if (equilibria.length > 1) steps.push(`Both prefer ${target[0] + 1},${target[1] + 1}.`);
  }

  const game: SimultaneousGame = { name: 'generated', kind: 'simultaneous', payoffs };
  const messages = simultaneousPrompt(game, player);
  const question = messages[messages.length - 1].content;
  const rendering = { question, steps };
  return {
    key: `${family}|${player}`,
    family,
    full: rendering,
    compact: rendering,
    answer: { kind: 'move', choice: target[0] + 1 },
    messages,
  };
};
