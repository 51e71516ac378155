import { PositionWriteBehind } from './position-write-behind';

/** A write the test completes (or fails) by hand, recording what it was asked to store. */
function manualWrites() {
  const asked: number[] = [];
  const pending: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  const write = (position: number) =>
    new Promise<void>((resolve, reject) => {
      asked.push(position);
      pending.push({ resolve, reject });
    });
  const settle = async (outcome: 'ok' | Error = 'ok') => {
    const next = pending.shift()!;
    if (outcome === 'ok') next.resolve();
    else next.reject(outcome);
    await new Promise((r) => setImmediate(r));
  };
  return { asked, write, settle };
}

describe('PositionWriteBehind', () => {
  it('writes at once, and what is noted during a write in one write after it (the highest)', async () => {
    const { asked, write, settle } = manualWrites();
    const writer = new PositionWriteBehind(write);
    writer.note(5);
    writer.note(7);
    writer.note(6);
    writer.note(9);
    expect(asked).toEqual([5]);
    await settle();
    expect(asked).toEqual([5, 9]);
    await settle();
    expect(asked).toEqual([5, 9]);
    expect(writer.position).toBe(9);
  });

  it('flush() resolves once everything noted is stored', async () => {
    const { asked, write, settle } = manualWrites();
    const writer = new PositionWriteBehind(write);
    writer.note(3);
    let flushed = false;
    const flushing = writer.flush().then(() => (flushed = true));
    writer.note(4);
    await settle();
    expect(flushed).toBe(false);
    await settle();
    await flushing;
    expect(asked).toEqual([3, 4]);
  });

  it('keeps a failed position noted: failed says so, flush() throws it once and the next flush stores it', async () => {
    const { asked, write, settle } = manualWrites();
    const writer = new PositionWriteBehind(write);
    writer.note(8);
    await settle(new Error('database away'));
    expect(writer.failed).toBe(true);
    const first = writer.flush();
    await settle(new Error('still away'));
    await expect(first).rejects.toThrow('still away');
    const second = writer.flush();
    await settle();
    await second;
    expect(asked).toEqual([8, 8, 8]);
    expect(writer.failed).toBe(false);
  });

  it('never writes a position lower than one noted before', async () => {
    const { asked, write, settle } = manualWrites();
    const writer = new PositionWriteBehind(write);
    writer.note(10);
    await settle();
    writer.note(4);
    expect(asked).toEqual([10]);
    await writer.flush();
  });
});
