import { Mulberry32 } from './mulberry32';

// Recorded runs replay these sequences: the values are the ones the generator has always produced.
describe('Mulberry32', () => {
  it('draws the recorded sequence for a seed', () => {
    const rng = new Mulberry32(42);
    expect([rng.next(), rng.next(), rng.next()]).toEqual([
      0.6011037519201636, 0.44829055899754167, 0.8524657934904099,
    ]);
    expect(rng.state).toBe(1199730185);
  });

  it('shuffles as recorded (Fisher-Yates from the top)', () => {
    const rng = new Mulberry32(7);
    expect(rng.permutation(8)).toEqual([4, 6, 1, 2, 3, 5, 7, 0]);
    expect(rng.state).toBe(4231026106);
  });

  it('takes the seed modulo 2^32, and continues from a recorded state', () => {
    expect(new Mulberry32(2 ** 32 + 42).next()).toBe(new Mulberry32(42).next());
    const rng = new Mulberry32(42);
    rng.next();
    const resumed = new Mulberry32(rng.state);
    expect(resumed.next()).toBe(rng.next());
  });
});
