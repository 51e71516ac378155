import { solveBackwardInduction, type GameTree } from './backward-induction';
import { grimTriggerEnforceable, grimTriggerThreshold } from './repeated';

const leaf = (...payoffs: number[]): GameTree => ({ kind: 'leaf', payoffs });

describe('backward induction', () => {
  it('solves an ultimatum game: the responder accepts anything positive, so the proposer is greedy', () => {
    const tree: GameTree = {
      kind: 'decision',
      player: 0,
      moves: [
        { action: 'fair', next: leaf(5, 5) },
        { action: 'greedy', next: { kind: 'decision', player: 1, moves: [{ action: 'accept', next: leaf(8, 2) }, { action: 'reject', next: leaf(0, 0) }] } },
      ],
    };
    const result = solveBackwardInduction(tree);
    expect(result.path).toEqual(['greedy', 'accept']);
    expect(result.payoffs).toEqual([8, 2]);
    expect(result.plan).toEqual([
      { at: ['greedy'], player: 1, action: 'accept', tie: false },
      { at: [], player: 0, action: 'greedy', tie: false },
    ]);
  });

  it('solves the three-round acquisition of eval row 20 (B finalizes) and flags a tie', () => {
    const tree: GameTree = {
      kind: 'decision',
      player: 0,
      name: 'A round 1',
      moves: [
        { action: 'finalize', next: leaf(41192.9, 64209.7) },
        {
          action: 'pass',
          next: {
            kind: 'decision',
            player: 1,
            name: 'B round 2',
            moves: [
              { action: 'finalize', next: leaf(66252, 69246.9) },
              { action: 'pass', next: { kind: 'decision', player: 0, name: 'A round 3', moves: [{ action: 'finalize', next: leaf(42205.8, 53936.7) }, { action: 'pass to C', next: leaf(42205.8, 53936.7) }] } },
            ],
          },
        },
      ],
    };
    const result = solveBackwardInduction(tree);
    expect(result.path).toEqual(['pass', 'finalize']);
    expect(result.plan.find((d) => d.name === 'B round 2')?.action).toBe('finalize');
    expect(result.plan.find((d) => d.name === 'A round 3')?.tie).toBe(true);
  });

  it('rejects malformed trees naming the node', () => {
    expect(() => solveBackwardInduction({ kind: 'decision', player: 0, moves: [] })).toThrow('decision node at root: has no moves');
    expect(() => solveBackwardInduction({ kind: 'decision', player: 2, moves: [{ action: 'x', next: leaf(1, 2) }] })).toThrow(/player 2 is not one of 0..1/);
    expect(() =>
      solveBackwardInduction({ kind: 'decision', player: 0, moves: [{ action: 'x', next: leaf(1, 2) }, { action: 'y', next: leaf(1) }] }),
    ).toThrow('leaf at y: 1 payoffs, expected 2');
  });
});

describe('grim trigger', () => {
  it('needs delta >= (T-R)/(T-P)', () => {
    expect(grimTriggerThreshold({ temptation: 5, reward: 3, punishment: 1 })).toBe(0.5);
    // eval_dataset.csv row 40: R 280, T 566, P 140 -> 0.67 (gold Option 1: 0.67)
    expect(grimTriggerThreshold({ temptation: 566, reward: 280, punishment: 140 })).toBeCloseTo(0.6714, 4);
    expect(grimTriggerEnforceable({ temptation: 5, reward: 3, punishment: 1 }, 0.5)).toBe(true);
    expect(grimTriggerEnforceable({ temptation: 5, reward: 3, punishment: 1 }, 0.49)).toBe(false);
  });

  it('rejects payoffs that are not a dilemma and discount factors outside [0, 1)', () => {
    expect(() => grimTriggerThreshold({ temptation: 3, reward: 3, punishment: 1 })).toThrow(/temptation > reward > punishment, got T=3 R=3 P=1/);
    expect(() => grimTriggerEnforceable({ temptation: 5, reward: 3, punishment: 1 }, 1)).toThrow(/discount factor 1/);
  });
});
