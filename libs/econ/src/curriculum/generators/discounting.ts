import { discountFactor, preferenceReversal, type Discounting } from '../../solvers/discounting';
import type { ProblemGenerator } from '../problem';

const OUTCOMES = ['sooner-sooner', 'later-later', 'sooner-later', 'later-sooner'] as const;
const OPTIONS = [
  { full: 'The smaller-sooner amount both times', compact: 'sooner, sooner' },
  { full: 'The larger-later amount both times', compact: 'later, later' },
  { full: 'Smaller-sooner now, but larger-later when both are delayed', compact: 'sooner, later' },
  { full: 'Larger-later now, but smaller-sooner when both are delayed', compact: 'later, sooner' },
];

/**
 * Smaller-sooner vs larger-later, now and with both dates pushed back: an exponential discounter chooses the
 * same way twice, a hyperbolic one can reverse. The outcome is drawn first among those the agent can show.
 */
export const discountingProblem: ProblemGenerator = (rng, inSplit) => {
  const hyperbolic = rng.next() < 0.5;
  const wanted = rng.int(0, hyperbolic ? 2 : 1);
  const d: Discounting = hyperbolic ? { kind: 'hyperbolic', k: rng.int(1, 20) / 10 } : { kind: 'exponential', delta: rng.int(80, 99) / 100 };
  const sooner = { amount: rng.int(5, 50) * 10, t: 0 };
  const later = { amount: sooner.amount + rng.int(1, 30) * 10, t: rng.int(1, 5) };
  const shift = rng.int(2, 30);
  const key = `discounting|${JSON.stringify(d)}|${sooner.amount}|${later.amount}|${later.t}|${shift}`;
  if (!inSplit(key)) return null;
  const { near, far } = preferenceReversal(d, sooner, later, shift);
  if (near === 'indifferent' || far === 'indifferent') return null;
  const pick = (c: 'first' | 'second') => (c === 'first' ? 'sooner' : 'later');
  const outcome = OUTCOMES.indexOf(`${pick(near)}-${pick(far)}` as (typeof OUTCOMES)[number]);
  if (outcome !== wanted) return null;
  const agent = d.kind === 'hyperbolic' ? `hyperbolic discounting, weight 1/(1 + ${d.k}·t)` : `exponential discounting, weight ${d.delta}^t`;
  const pv = (amount: number, t: number) => String(Number((amount * discountFactor(d, t)).toPrecision(4)));
  const [x, y, t] = [sooner.amount, later.amount, later.t];
  // Values too close to tell apart at four significant digits would make the written reasoning unconvincing.
  if (pv(x, 0) === pv(y, t) || pv(x, shift) === pv(y, shift + t)) return null;
  return {
    key,
    full: {
      question:
        `An agent with ${agent} for a delay of t periods chooses between $${x} now and $${y} in ${t} period(s). ` +
        `Later the agent is asked the same choice with both payments pushed back by ${shift} periods: $${x} in ${shift} periods or $${y} in ${shift + t}. What does the agent choose in the two questions?`,
      steps: [
        `Now: $${x} is worth ${pv(x, 0)}, $${y} in ${t} is worth ${pv(y, t)}, so the agent takes the ${pick(near)} payment.`,
        `Delayed: $${x} in ${shift} is worth ${pv(x, shift)}, $${y} in ${shift + t} is worth ${pv(y, shift + t)}, so the agent takes the ${pick(far)} payment.`,
        d.kind === 'exponential' ? 'Exponential weights shrink both by the same factor, so the choice cannot change.' : `Hyperbolic weights fall fast at first and slowly later, so a reversal is possible${near !== far ? ' and happens here' : ' but does not happen here'}.`,
      ],
    },
    compact: {
      question: d.kind === 'hyperbolic' ? `Hyperbolic k=${d.k}. $${x} now vs $${y} at t=${t}; then both +${shift}. Choices?` : `Exponential d=${d.delta}. $${x} now vs $${y} at t=${t}; then both +${shift}. Choices?`,
      steps: [`Now ${pv(x, 0)} vs ${pv(y, t)}.`, `Delayed ${pv(x, shift)} vs ${pv(y, shift + t)}.`],
    },
    answer: { kind: 'choice', options: OPTIONS, correct: outcome },
  };
};
