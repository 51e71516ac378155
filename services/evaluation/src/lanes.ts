/**
 * Runs `work` on every item with at most `lanes` calls in flight, each told its lane (0 .. lanes-1; no two calls
 * share a lane at once). Results come back in item order whatever order the calls finish in, and `inOrder`
 * (optional) sees each result in item order as soon as it and every earlier one are in, one at a time: what is
 * recorded from concurrent work keeps the order a one-lane run would give it.
 */
export async function inLanes<T, R>(
  items: readonly T[],
  lanes: number,
  work: (item: T, lane: number, index: number) => Promise<R>,
  inOrder?: (result: R, index: number) => Promise<void>,
): Promise<R[]> {
  if (!Number.isInteger(lanes) || lanes < 1)
    throw new Error(`inLanes: lanes must be a positive integer, not ${lanes}`);
  const results = new Array<R>(items.length);
  const done = new Set<number>();
  let next = 0;
  let delivered = 0;
  let delivering: Promise<void> = Promise.resolve();
  let failed = false;
  const deliver = async (): Promise<void> => {
    while (done.has(delivered)) {
      const index = delivered++;
      await inOrder?.(results[index], index);
    }
  };
  const lane = async (id: number): Promise<void> => {
    while (next < items.length && !failed) {
      const index = next++;
      results[index] = await work(items[index], id, index);
      done.add(index);
      delivering = delivering.then(deliver);
      // Handled here so that a failed delivery stops the lanes; it is thrown where it is awaited below.
      delivering.catch(() => (failed = true));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(lanes, items.length) }, (_, id) => lane(id)));
  } catch (error) {
    failed = true;
    await delivering.catch(() => undefined);
    throw error;
  }
  await delivering;
  return results;
}
