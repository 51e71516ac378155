import { certaintyEquivalent, expectedValue } from '../../solvers/risk';
import { fmt, type ProblemGenerator } from '../problem';

/** Never correct (equal values are redrawn); a third option keeps a constant guess at one position from scoring 50%. */
const INDIFFERENT = { full: 'They are equally good', compact: 'same' };

/**
 * Two kinds of risky choice, the preferred side drawn first: a risk-neutral choice between two lotteries by
 * expected value, or an expected-utility maximiser with u(x) = sqrt(x) (CRRA r = 1/2) weighing a gamble against
 * a sure amount through its certainty equivalent (outcomes are perfect squares so the arithmetic stays exact).
 */
export const expectedValueProblem: ProblemGenerator = (rng, inSplit) => {
  const preferFirst = rng.next() < 0.5;
  if (rng.next() < 0.5) {
    // Even odds and single-digit prizes: the expected values compare as the sums of the two prizes.
    const lottery = () => ({ p: 50, win: rng.int(1, 9), lose: rng.int(0, 9) });
    const [a, b] = [lottery(), lottery()];
    const ev = (l: typeof a) => expectedValue([{ p: l.p / 100, x: l.win }, { p: 1 - l.p / 100, x: l.lose }]);
    const key = `expected_value|ev|${JSON.stringify([a, b])}`;
    if (!inSplit(key)) return null;
    const [evA, evB] = [ev(a), ev(b)].map((x) => Number(x.toFixed(6)));
    if (evA === evB || evA > evB !== preferFirst) return null;
    const text = (l: typeof a) => `${l.p}% chance of ${l.win}, otherwise ${l.lose}`;
    const step = (name: string, l: typeof a, value: number) => `EV(${name}) = ${l.p / 100}·${l.win} + ${fmt(1 - l.p / 100)}·${l.lose} = ${fmt(value)}.`;
    return {
      key,
      full: {
        question: `A risk-neutral investor chooses between two lotteries. Lottery A pays ${text(a)}. Lottery B pays ${text(b)}. Which lottery should the investor choose?`,
        steps: [step('A', a, evA), step('B', b, evB), `A risk-neutral investor takes the higher expected value: ${evA > evB ? 'A' : 'B'}.`],
      },
      compact: {
        question: `Risk-neutral, even odds. A: ${a.win} or ${a.lose}. B: ${b.win} or ${b.lose}. Pick?`,
        steps: [`A ${a.win}+${a.lose}=${a.win + a.lose}.`, `B ${b.win}+${b.lose}=${b.win + b.lose}.`, `${evA > evB ? 'A' : 'B'}.`],
      },
      answer: { kind: 'choice', options: [{ full: 'Lottery A', compact: 'A' }, { full: 'Lottery B', compact: 'B' }, INDIFFERENT], correct: evA > evB ? 0 : 1 },
    };
  }
  // Even odds, perfect squares: the certainty equivalent beats the sure amount exactly when the mean of the
  // square roots beats the sure amount's root, so every compact step is a small-integer fact.
  const p = 0.5;
  const [hi, lo] = [rng.int(2, 9), rng.int(0, 1)];
  const sure = rng.int(1, 9) ** 2;
  const key = `expected_value|ce|${p}|${hi}|${lo}|${sure}`;
  if (!inSplit(key)) return null;
  const gamble = [{ p, x: hi * hi }, { p: 1 - p, x: lo * lo }];
  const ce = Number(certaintyEquivalent(gamble, { kind: 'crra', r: 0.5 }).toFixed(6));
  if (ce === sure || ce > sure !== preferFirst) return null;
  const ev = expectedValue(gamble);
  const eu = p * hi + (1 - p) * lo;
  return {
    key,
    full: {
      question: `An investor with utility u(x) = √x chooses between a gamble paying ${hi * hi} with probability ${p} and ${lo * lo} otherwise, and ${sure} for sure. Which should the investor choose?`,
      steps: [
        `Expected utility of the gamble: ${p}·√${hi * hi} + ${fmt(1 - p)}·√${lo * lo} = ${fmt(eu, 4)}.`,
        `Its certainty equivalent is ${fmt(eu, 4)}² = ${fmt(ce)} (its expected value is ${fmt(ev)}; the gap is the risk premium).`,
        `${fmt(ce)} ${ce > sure ? '>' : '<'} ${sure}, so the investor prefers ${ce > sure ? 'the gamble' : 'the sure amount'}.`,
      ],
    },
    compact: {
      question: `u=sqrt(x). Gamble ${hi * hi} or ${lo * lo} (even odds), or ${sure} sure. Pick?`,
      steps: [`roots ${hi},${lo} vs ${Math.sqrt(sure)}.`, `${hi}+${lo}=${hi + lo} vs 2*${Math.sqrt(sure)}=${2 * Math.sqrt(sure)}.`, `${ce > sure ? 'gamble' : 'sure'}.`],
    },
    answer: { kind: 'choice', options: [{ full: 'The gamble', compact: 'gamble' }, { full: 'The sure amount', compact: 'sure' }, INDIFFERENT], correct: ce > sure ? 0 : 1 },
  };
};
