import type { BlobStore, EventStore, RecordedEvent } from '@recon/eventlog';
import { CheckpointNotFoundError, resolveCheckpoint } from './resolve-checkpoint';

const hash = (c: string) => c.repeat(64);

function stores(streams: Record<string, Array<{ stage: string; checkpointHash: string }>>, blobs: string[]) {
  const eventStore = {
    streamVersion: (id: string) => Promise.resolve(streams[id]?.length ?? 0),
    readStream: (id: string) =>
      Promise.resolve(
        (streams[id] ?? []).map((payload) => ({
          type: 'policy.ready',
          payload: { ...payload, step: 0, final: false },
        })) as unknown as RecordedEvent[],
      ),
  } as unknown as EventStore;
  const blobStore = { has: (h: string) => Promise.resolve(blobs.includes(h)) } as unknown as BlobStore;
  return { eventStore, blobStore };
}

describe('resolveCheckpoint', () => {
  const run = {
    r1: [
      { stage: 'untrained', checkpointHash: hash('a') },
      { stage: 'sft', checkpointHash: hash('b') },
    ],
  };
  const all = stores(run, [hash('a'), hash('b'), hash('c')]);

  it('takes a stored hash as is, and a run at a stage or at its last ready stage', async () => {
    await expect(resolveCheckpoint(all, hash('c'))).resolves.toEqual({ checkpointHash: hash('c') });
    await expect(resolveCheckpoint(all, 'r1:untrained')).resolves.toEqual({
      checkpointHash: hash('a'),
      runId: 'r1',
      stage: 'untrained',
    });
    await expect(resolveCheckpoint(all, 'r1')).resolves.toMatchObject({
      checkpointHash: hash('b'),
      stage: 'sft',
    });
  });

  it('names what is missing', async () => {
    const cases: Array<[string, RegExp]> = [
      [hash('d'), /no checkpoint blob d{64} in the blob store/],
      ['r2', /'r2' is neither a checkpoint hash \(64 hex digits\) nor a run with events/],
      ['r1:grpo', /run r1 has no policy ready at stage grpo \(ready: untrained, sft\)/],
    ];
    for (const [reference, message] of cases) {
      const error = await resolveCheckpoint(all, reference).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CheckpointNotFoundError);
      expect((error as Error).message).toMatch(message);
    }
    await expect(resolveCheckpoint(stores(run, [hash('a')]), 'r1:sft')).rejects.toThrow(
      `run r1 sft: checkpoint blob ${hash('b')} is not in the blob store`,
    );
  });
});
