import { randomUUID } from 'node:crypto';
import {
  createScratchPlatform,
  openPlatform,
  ProjectionProcessor,
  type ScratchPlatform,
} from '@recon/persistence';

/**
 * The lab overlay (deploy/overlays/lab/kustomization.yaml) sends the services through the PgBouncer Pooler
 * by appending `?host=<the pooler's Service>` to the URL CloudNativePG writes for the cluster. Every way a
 * recon process connects must then go to that host: the event store's pool, TypeORM's DataSource and the
 * projection processor's own client (the one holding its session lock and LISTEN).
 */
describe('a DATABASE_URL with a host parameter', () => {
  let scratch: ScratchPlatform;
  beforeAll(async () => {
    scratch = await createScratchPlatform();
  });
  afterAll(async () => {
    await scratch.close();
  });

  /** The scratch database's URL with a host that never resolves (RFC 6761) and the real one as parameter. */
  function behindHostParameter(url: string): string {
    const parsed = new URL(url);
    const reachable = parsed.hostname;
    parsed.hostname = 'recon-db-rw.recon.invalid';
    parsed.searchParams.set('host', reachable);
    return parsed.toString();
  }

  it('connects the pool, the read models and a dedicated client to the host the parameter names', async () => {
    const url = behindHostParameter(scratch.databaseUrl);
    expect(url).toMatch(/^postgres:\/\/postgres@recon-db-rw\.recon\.invalid:5432\/recon_scratch_\w+\?host=/);
    const platform = await openPlatform({ databaseUrl: url, blobDir: scratch.blobDir });
    const processor = new ProjectionProcessor(platform.projections, platform.databaseUrl, { pollMs: 50 });
    try {
      // The pool: an append and its read back.
      const runId = `pooler-${randomUUID()}`;
      const [recorded] = await platform.eventStore.append(
        runId,
        [{ type: 'run.failed', payload: { phase: 'test', error: 'recorded through the host parameter' } }],
        { expectedVersion: 'no-stream', producer: { service: 'api', version: 'test', instance: 'jest' } },
      );
      expect((await platform.eventStore.readStream(runId)).map((e) => e.eventId)).toEqual([recorded.eventId]);
      // TypeORM's DataSource, and the processor's client (lock and LISTEN) projecting the append.
      processor.start();
      for (
        let i = 0;
        i < 200 && (await platform.projections.projectedPosition()) < recorded.globalPosition;
        i++
      )
        await new Promise((r) => setTimeout(r, 50));
      expect(processor.isLeader).toBe(true);
      expect(await platform.projections.projectedPosition()).toBeGreaterThanOrEqual(recorded.globalPosition);
    } finally {
      await processor.stop();
      await platform.close();
    }
  });
});
