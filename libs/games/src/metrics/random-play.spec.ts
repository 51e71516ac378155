import { COMPLETE_INFO_GAMES } from '../match/complete-info-trial';
import { pooledRate, randomPlayEquilibriumRate, randomPlayNashOutcomeRate } from './random-play';

const rateOf = (name: string, rate: (game: (typeof COMPLETE_INFO_GAMES)[number]) => number) =>
  rate(COMPLETE_INFO_GAMES.find((g) => g.name === name)!);

describe('random legal play in the complete-information games', () => {
  it.each([
    // simultaneous: pure-NE cells over all cells
    ["Prisoner's Dilemma", 1 / 4],
    ['Stag Hunt', 2 / 4],
    ['Battle of the Sexes', 2 / 4],
    ['Wait-Go', 2 / 4],
    ['Duopolistic Competition', 1 / 36],
    // sequential: the subgame-perfect path, 1/2 per decision on it
    ['Escalation', 1 / 2],
    ['Monopoly', 1 / 4],
    ['Hot-Cold', 1 / 4],
    ['Draco', 1 / 4],
    ['Trigame', 1 / 8],
  ])('%s ends in what the judge counts as an equilibrium with probability %d', (name, expected) => {
    expect(rateOf(name, randomPlayEquilibriumRate)).toBeCloseTo(expected, 12);
  });

  it('pools to 31.5% over the ten games with equal trials', () => {
    const pooled = pooledRate(
      COMPLETE_INFO_GAMES.map((g) => ({ rate: randomPlayEquilibriumRate(g), trials: 10 })),
    );
    expect(pooled).toBeCloseTo((0.25 + 0.5 * 3 + 1 / 36 + 0.5 + 0.25 * 3 + 0.125) / 10, 12);
  });

  it('counts Nash outcomes held up by non-credible threats only in the looser reading', () => {
    // Monopoly: staying out (path 1, probability 1/2) is an equilibrium outcome; entering then sharing (2,1) too.
    expect(rateOf('Monopoly', randomPlayNashOutcomeRate)).toBeCloseTo(3 / 4, 12);
    expect(rateOf('Stag Hunt', randomPlayNashOutcomeRate)).toBe(
      rateOf('Stag Hunt', randomPlayEquilibriumRate),
    );
    for (const game of COMPLETE_INFO_GAMES)
      expect(randomPlayNashOutcomeRate(game)).toBeGreaterThanOrEqual(randomPlayEquilibriumRate(game) - 1e-12);
  });

  it('weights pooled rates by trials', () => {
    expect(
      pooledRate([
        { rate: 1, trials: 3 },
        { rate: 0, trials: 1 },
      ]),
    ).toBe(0.75);
    expect(pooledRate([])).toBe(0);
  });
});
