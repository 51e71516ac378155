import { GenerationPositions } from './handled-positions';

describe('GenerationPositions', () => {
  it('remembers positions and offsets of the current generation only', () => {
    const positions = new GenerationPositions();
    positions.newGeneration();
    const first = positions.current();
    positions.set(3, 41, first);
    positions.resolved(3, '9', first);
    expect(positions.get(3)).toBe(41);
    expect(positions.uncommitted()).toEqual([{ partition: 3, next: '10' }]);

    positions.newGeneration();
    expect(positions.get(3)).toBeUndefined();
    expect(positions.uncommitted()).toEqual([]);
    // A batch of the previous generation finishing late records nothing.
    positions.set(3, 57, first);
    positions.resolved(3, '12', first);
    expect(positions.get(3)).toBeUndefined();
    expect(positions.uncommitted()).toEqual([]);
  });
});
