import { inLanes } from './lanes';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('inLanes', () => {
  it('returns results in item order when later items finish first', async () => {
    const delays = [30, 1, 20, 1, 5];
    const results = await inLanes(delays, 2, async (delay, _lane, index) => {
      await tick(delay);
      return index;
    });
    expect(results).toEqual([0, 1, 2, 3, 4]);
  });

  it('never has more than `lanes` calls in flight, and no two at once on one lane', async () => {
    let inFlight = 0;
    let most = 0;
    const busy = new Set<number>();
    await inLanes([5, 1, 3, 2, 4, 1], 2, async (delay, lane) => {
      expect(busy.has(lane)).toBe(false);
      busy.add(lane);
      most = Math.max(most, ++inFlight);
      await tick(delay);
      inFlight--;
      busy.delete(lane);
    });
    expect(most).toBe(2);
  });

  it('uses one lane when asked to, in item order', async () => {
    const order: number[] = [];
    await inLanes([3, 1, 2], 1, async (item) => void order.push(item));
    expect(order).toEqual([3, 1, 2]);
  });

  it('refuses a lane count that is not a positive integer', async () => {
    await expect(inLanes([1], 0, async () => 1)).rejects.toThrow('lanes must be a positive integer');
  });

  it('rejects when a call fails', async () => {
    await expect(
      inLanes([1, 2], 2, async (item) => {
        if (item === 2) throw new Error('boom');
        return item;
      }),
    ).rejects.toThrow('boom');
  });
});

describe('inLanes in-order delivery', () => {
  it('hands results to inOrder in item order, one at a time, while later items still run', async () => {
    const seen: number[] = [];
    let delivering = false;
    await inLanes(
      [30, 1, 1, 1],
      2,
      async (delay, _lane, index) => {
        await tick(delay);
        return index;
      },
      async (result) => {
        expect(delivering).toBe(false);
        delivering = true;
        await tick(2);
        seen.push(result);
        delivering = false;
      },
    );
    expect(seen).toEqual([0, 1, 2, 3]);
  });

  it('rejects when inOrder fails', async () => {
    await expect(
      inLanes(
        [1, 2],
        2,
        async (item) => item,
        async () => {
          throw new Error('append failed');
        },
      ),
    ).rejects.toThrow('append failed');
  });
});
