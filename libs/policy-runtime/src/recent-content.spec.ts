import { RecentContent } from './recent-content';

describe('RecentContent', () => {
  it('keeps the most recently used entries within its count and byte bounds', () => {
    const recent = new RecentContent<string>(2, 10);
    recent.set('a', 'A', 4);
    recent.set('b', 'B', 4);
    expect(recent.get('a')).toBe('A'); // now the most recent
    recent.set('c', 'C', 4); // over both bounds: the least recently used goes
    expect(recent.get('b')).toBeUndefined();
    expect([recent.get('a'), recent.get('c')]).toEqual(['A', 'C']);
    recent.set('d', 'D', 9); // alone within the byte bound: every other entry goes
    expect([recent.get('a'), recent.get('c'), recent.get('d')]).toEqual([undefined, undefined, 'D']);
  });

  it('does not keep content larger than its byte bound, and forgets on delete and clear', () => {
    const recent = new RecentContent<string>(4, 10);
    recent.set('big', 'X', 11);
    expect(recent.get('big')).toBeUndefined();
    recent.set('a', 'A', 1);
    recent.set('b', 'B', 1);
    recent.delete('a');
    expect(recent.get('a')).toBeUndefined();
    recent.clear();
    expect(recent.get('b')).toBeUndefined();
  });
});
