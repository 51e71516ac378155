import 'reflect-metadata';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module, type INestApplication } from '@nestjs/common';
import { defaultCheckpointFile } from '@recon/eventlog';
import { scratchServerUrl } from '@recon/persistence';
import { createServiceApp, issueToken, PlatformModule } from '@recon/service-kit';
import { InProcessEventBus } from '@recon/transport';
import { syntheticRunBlobs } from '../../apps/cli/src/demo/synthetic-run';
import { buildAuditReport, signLogCheckpoint } from '@recon/audit';
import { ApiModule } from '../../services/api/src/http/api.module';
import { tamper } from '../support/attacker';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { syntheticRunEvents, TEST_PRODUCER } from '../support/synthetic-run';

/**
 * `GET /runs/:id/audit` is the run audit of `recon audit <run> --json`: the chain against the signed log
 * checkpoints of the gateway's home and every blob the run references, not the chain alone.
 */
describe('GET /runs/:runId/audit', () => {
  let platform: TestPlatform;
  let app: INestApplication;
  let base: string;
  let token: string;
  let home: string;
  let databaseUrl: string;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'recon-audit-route-'));
    platform = await createTestPlatform({ home });
    const url = new URL(scratchServerUrl());
    url.pathname = `/${platform.databaseName}`;
    databaseUrl = url.toString();
    const bus = new InProcessEventBus(platform.eventStore, platform.pool);
    @Module({
      imports: [PlatformModule.forRoot(platform, bus), ApiModule.forRoot({ requestsPerMinute: 1000 })],
    })
    class TestAppModule {}
    app = await createServiceApp(TestAppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    for (const runId of ['intact', 'blobless', 'truncated', 'edited']) {
      for (const blob of syntheticRunBlobs(runId)) await platform.blobStore.put(blob);
      await platform.eventStore.append(runId, syntheticRunEvents(runId, { sftSteps: 2, grpoSteps: 1 }), {
        expectedVersion: 'no-stream',
        producer: TEST_PRODUCER,
      });
    }
    token = (
      await issueToken(
        platform,
        { name: 'v', role: 'viewer', expiresInMs: null, actor: 'test' },
        TEST_PRODUCER,
      )
    ).token;
    expect((await signLogCheckpoint(platform)).published).toBe(true);
  });

  afterAll(async () => {
    await app?.close();
    await platform?.close();
    rmSync(home, { recursive: true, force: true });
  });

  const audit = async (runId: string) => {
    const response = await fetch(`${base}/runs/${runId}/audit`, {
      headers: { authorization: `Bearer ${token}` },
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response shapes are asserted below
    return { status: response.status, body: (await response.json()) as any };
  };

  it('answers the chain, its signed checkpoint and its blobs for an intact run', async () => {
    const { status, body } = await audit('intact');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      ok: true,
      chainOk: true,
      checkpoint: { status: 'verified', through: { sequence: 1 } },
      blobs: { ok: true, checks: [{ status: 'intact', reference: { kind: 'checkpoint' } }] },
    });
  });

  it('fails a run whose checkpoint blob is gone, naming it', async () => {
    const [hash] = await Promise.all(
      syntheticRunBlobs('blobless').map((blob) => platform.blobStore.put(blob)),
    );
    rmSync(join(platform.blobDir, hash.slice(0, 2), hash.slice(2)));
    const { status, body } = await audit('blobless');
    expect(status).toBe(200);
    expect(body).toMatchObject({ ok: false, chainOk: true, blobs: { firstProblem: { status: 'missing' } } });
    expect(body.blobs.firstProblem.reference.hash).toBe(hash);
  });

  it('fails a run truncated with its head moved to the new tail, against the signed head', async () => {
    await tamper(databaseUrl, `DELETE FROM recon_events WHERE stream_id = 'truncated' AND position > 3`);
    await tamper(
      databaseUrl,
      `UPDATE recon_streams s SET version = 3, last_hash = e.hash FROM recon_events e
        WHERE s.stream_id = 'truncated' AND e.stream_id = 'truncated' AND e.position = 3`,
    );
    const { body } = await audit('truncated');
    expect(body).toMatchObject({
      ok: false,
      chainOk: false,
      firstBroken: { position: 4, check: 'signed-head' },
    });
  });

  it('reports the checkpoint blobs after a chain break as not checked, not as missing', async () => {
    await tamper(
      databaseUrl,
      `UPDATE recon_events SET payload = replace(payload::text, '"seed":42', '"seed":43')::json WHERE stream_id = 'edited' AND position = 1`,
    );
    const { status, body } = await audit('edited');
    expect(status).toBe(200);
    expect(body).toMatchObject({ ok: false, firstBroken: { position: 1 }, blobs: { checks: [] } });
    const { markdown } = await buildAuditReport(platform, 'edited');
    expect(markdown).toMatch(/\| `[0-9a-f]{64}` \| \d+ \| not checked \(after the break at position 1\) \|/);
    expect(markdown).not.toContain('MISSING');
  });

  it('answers 500 naming the checkpoint file when it cannot be trusted', async () => {
    appendFileSync(defaultCheckpointFile(home, {}), 'not json\n');
    const { status, body } = await audit('intact');
    expect(status).toBe(500);
    expect(body.message).toMatch(/^the log checkpoints cannot be used: .*log-checkpoints\.jsonl:2: not JSON/);
  });
});
