import { payloadDifferences } from './payload-differences';

describe('payloadDifferences', () => {
  it('is empty for equal values whatever the key order', () => {
    expect(payloadDifferences({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toEqual([]);
  });

  it('names each differing path with both values, absent keys included', () => {
    expect(
      payloadDifferences(
        { teacher: { model: 'a', baseUrl: 'http://h' }, limit: null, sampling: { temperature: 0 } },
        { teacher: { model: 'b', baseUrl: 'http://h' }, limit: 5, sampling: {} },
      ),
    ).toEqual([
      'limit: null recorded, 5 now',
      'sampling.temperature: 0 recorded, absent now',
      "teacher.model: 'a' recorded, 'b' now",
    ]);
    expect(payloadDifferences(['x'], ['y'])).toEqual(['(value): ["x"] recorded, ["y"] now']);
  });
});
