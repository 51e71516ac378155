import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PayloadOf } from '@recon/contracts';
import type { EventStore, FileBlobStore } from '@recon/eventlog';
import { datasetStreamId, scratchServerUrl } from '@recon/persistence';
import {
  DistillationSettingsConflictError,
  distillationStreamId,
  importDataset,
  runDistillation,
} from '../../services/data/src';
import { createTestPlatform, type TestPlatform } from '../support/platform';
import { runRecon } from '../support/recon-cli';

/** What the canned teacher does for a prompt, by the marker the prompt contains. */
type Behaviour = 'correct' | 'wrong' | 'no-box' | 'fail-once-500' | 'slow-once' | 'reasoning-field' | 'bad-request';

interface Teacher {
  url: string;
  hits: Map<string, number>;
  close(): Promise<void>;
}

async function startTeacher(behaviourOf: (marker: string) => Behaviour): Promise<Teacher> {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404).end();
        return;
      }
      const request = JSON.parse(body) as { messages: Array<{ content: string }> };
      const marker = /\[(Q\d+)\]/.exec(request.messages.at(-1)?.content ?? '')?.[1] ?? 'none';
      const hit = (hits.get(marker) ?? 0) + 1;
      hits.set(marker, hit);
      const reply = (content: string, extra: Record<string, unknown> = {}) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content, ...extra } }] }));
      switch (behaviourOf(marker)) {
        case 'correct':
          return reply('<think>The premise implies it.</think> \\boxed{Yes}');
        case 'wrong':
          return reply('<think>Hmm.</think> \\boxed{No}');
        case 'no-box':
          return reply('<think>Hmm.</think> I think yes.');
        case 'fail-once-500':
          return hit === 1 ? res.writeHead(500).end('overloaded') : reply('<think>ok</think> \\boxed{Yes}');
        case 'slow-once':
          if (hit === 1) return void setTimeout(() => reply('<think>late</think> \\boxed{Yes}'), 4000).unref();
          return reply('<think>ok</think> \\boxed{Yes}');
        case 'reasoning-field':
          return reply('\\boxed{Yes}', { reasoning_content: 'Separate reasoning.' });
        case 'bad-request':
          return res.writeHead(400).end('context length exceeded');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function writeProblems(count: number): string {
  const file = join(mkdtempSync(join(tmpdir(), 'recon-distil-')), `train_${count}.jsonl`);
  const lines = Array.from({ length: count }, (_, i) =>
    JSON.stringify({ messages: [{ role: 'user', content: `[Q${i + 1}] Does the premise lead to the hypothesis? Answer \\boxed{Yes} or \\boxed{No}.` }], answer: 'Yes' }),
  );
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const who = { requestedBy: 'tester', codeVersion: 'test' };

describe('teacher distillation against a real HTTP teacher', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await createTestPlatform();
  });
  afterAll(async () => {
    await platform.close();
  });

  it('keeps correct traces only, retries transient failures, times out slow calls and records everything', async () => {
    const behaviours: Behaviour[] = ['correct', 'wrong', 'no-box', 'fail-once-500', 'slow-once', 'reasoning-field', 'bad-request'];
    const teacher = await startTeacher((marker) => behaviours[Number(marker.slice(1)) - 1]);
    try {
      const { versionHash } = await importDataset({ file: writeProblems(7), split: 'train' }, platform);
      const summary = await runDistillation(
        { ...who, jobId: 'job-a', datasetVersion: versionHash, baseUrl: teacher.url, model: 'teacher', concurrency: 3, retries: 2, timeoutMs: 1500, minBackoffMs: 10 },
        platform,
      );
      expect(summary).toMatchObject({ items: 7, accepted: 4, rejected: { wrongAnswer: 1, noAnswer: 1, teacherFailed: 1 }, requests: 9 });
      expect(Object.fromEntries(teacher.hits)).toEqual({ Q1: 1, Q2: 1, Q3: 1, Q4: 2, Q5: 2, Q6: 1, Q7: 1 });

      const events = await platform.eventStore.readStream(distillationStreamId('job-a'));
      const count = (type: string) => events.filter((e) => e.type === type).length;
      expect([count('teacher.request.sent'), count('teacher.response.received'), count('trace.accepted'), count('trace.rejected')]).toEqual([9, 9, 4, 3]);
      expect(events[0].type).toBe('distillation.requested');
      expect(events.at(-1)!.payload).toEqual({ jobId: 'job-a', items: 7, accepted: 4, rejected: { wrongAnswer: 1, noAnswer: 1, teacherFailed: 1 } });
      const outcomes = events.filter((e) => e.type === 'teacher.response.received').map((e) => (e.payload as { outcome: string }).outcome).sort();
      expect(outcomes).toEqual(['http-error', 'http-error', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'timeout']);

      const accepted = events.filter((e) => e.type === 'trace.accepted').map((e) => e.payload as { rowIndex: number; traceBlobHash: string });
      const q6 = accepted.find((p) => p.rowIndex === 5);
      expect((await platform.blobStore.get(q6!.traceBlobHash)).toString()).toBe('<think>Separate reasoning.</think>\\boxed{Yes}');

      // A second run of the same job finds everything done and asks nothing.
      const again = await runDistillation(
        { ...who, jobId: 'job-a', datasetVersion: versionHash, baseUrl: teacher.url, model: 'teacher', retryFailed: false, timeoutMs: 400 },
        platform,
      );
      expect(again).toMatchObject({ alreadyDone: 7, requests: 0, accepted: 0 });
    } finally {
      await teacher.close();
    }
  });

  it('resumes after a crash without re-asking answered items', async () => {
    const teacher = await startTeacher(() => 'correct');
    try {
      const { versionHash } = await importDataset({ file: writeProblems(8), split: 'train' }, platform);
      // The process "dies" on its 7th append (the first is the job's request): item 1 is finished, item 2's
      // response is recorded but not graded.
      let appends = 0;
      const crashing: EventStore = Object.create(platform.eventStore) as EventStore;
      crashing.append = (...args) => {
        appends += 1;
        if (appends === 7) return Promise.reject(new Error('simulated crash'));
        return platform.eventStore.append(...args);
      };
      const options = { ...who, jobId: 'job-crash', datasetVersion: versionHash, baseUrl: teacher.url, model: 'teacher', concurrency: 1, minBackoffMs: 10 };
      await expect(runDistillation(options, { eventStore: crashing, blobStore: platform.blobStore })).rejects.toThrow('simulated crash');
      expect(teacher.hits.get('Q3')).toBeUndefined();

      const resumed = await runDistillation({ ...options, concurrency: 3 }, platform);
      expect(resumed).toMatchObject({ items: 8, alreadyDone: 1, recoveredFromLog: 1, accepted: 7, requests: 6 });
      for (let q = 1; q <= 8; q += 1) expect([`Q${q}`, teacher.hits.get(`Q${q}`)]).toEqual([`Q${q}`, 1]);

      const events = await platform.eventStore.readStream(distillationStreamId('job-crash'));
      const acceptedRows = events.filter((e) => e.type === 'trace.accepted').map((e) => (e.payload as { rowIndex: number }).rowIndex);
      expect(acceptedRows.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    } finally {
      await teacher.close();
    }
  });
});

describe('distillation jobs: settings, datasets, listing and exit codes', () => {
  let platform: TestPlatform;
  let env: Record<string, string>;
  const recon = (args: string[]) => runRecon(args, env, 120_000);
  beforeAll(async () => {
    platform = await createTestPlatform();
    const url = new URL(scratchServerUrl());
    url.pathname = `/${platform.databaseName}`;
    env = { DATABASE_URL: url.toString(), RECON_BLOB_DIR: (platform.blobStore as FileBlobStore).root };
  });
  afterAll(async () => {
    await platform.close();
  });

  it('refuses a job id reused with another teacher model or limit, before asking anything', async () => {
    const teacher = await startTeacher(() => 'correct');
    try {
      const { versionHash } = await importDataset({ file: writeProblems(3), split: 'train' }, platform);
      const options = { ...who, jobId: 'job-reuse', datasetVersion: versionHash, baseUrl: teacher.url, model: 'teacher', minBackoffMs: 10 };
      await runDistillation(options, platform);
      const [requested] = await platform.eventStore.readStream(distillationStreamId('job-reuse'));
      expect(requested.type).toBe('distillation.requested');
      expect(requested.payload).toMatchObject({
        teacher: { baseUrl: teacher.url, model: 'teacher' },
        sampling: {},
        source: { versionHash, rowCount: 3 },
        limit: null,
        items: 3,
        requestedBy: 'tester',
        codeVersion: 'test',
      });
      const version = await platform.eventStore.streamVersion(distillationStreamId('job-reuse'));
      const hits = teacher.hits.size;
      const error = await runDistillation({ ...options, model: 'other-teacher', limit: 2 }, platform).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DistillationSettingsConflictError);
      expect((error as Error).message).toContain("teacher.model: 'teacher' recorded, 'other-teacher' now");
      expect((error as Error).message).toContain('limit: null recorded, 2 now');
      expect(await platform.eventStore.streamVersion(distillationStreamId('job-reuse'))).toBe(version);
      expect(teacher.hits.size).toBe(hits);
      // Other concurrency or timeouts are the same job: it resumes (here: finds everything done).
      await expect(runDistillation({ ...options, concurrency: 1, timeoutMs: 999 }, platform)).resolves.toMatchObject({ alreadyDone: 3 });
    } finally {
      await teacher.close();
    }
  });

  it('registers the accepted traces as an SFT dataset with lineage, lists the job, and refuses reuse from the CLI', async () => {
    const behaviours: Behaviour[] = ['correct', 'wrong', 'reasoning-field', 'no-box', 'correct'];
    const teacher = await startTeacher((marker) => behaviours[Number(marker.slice(1)) - 1]);
    const dir = mkdtempSync(join(tmpdir(), 'recon-distil-cli-'));
    try {
      const { versionHash } = await importDataset({ file: writeProblems(5), split: 'train' }, platform);
      const out = join(dir, 'distilled.jsonl');
      const distill = (...extra: string[]) =>
        recon(['dataset', 'distill', versionHash, '--base-url', teacher.url, '--model', 'teacher', '--job', 'cli-job', '--retries', '0', ...extra]);
      const result = await distill('--temperature', '0.6', '--into', 'distilled-cot', '--out', out, '--json');
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const summary = JSON.parse(result.stdout) as { job: { accepted: number }; dataset: { name: string; versionHash: string; rowCount: number; registered: boolean } };
      expect(summary.job).toEqual({ items: 5, accepted: 3, rejected: { wrongAnswer: 1, noAnswer: 1, teacherFailed: 0 } });
      expect(summary.dataset).toMatchObject({ name: 'distilled-cot', rowCount: 3, registered: true });

      // The dataset: an SFT version whose rows are the accepted traces in row order, with its lineage.
      const datasetEvents = await platform.eventStore.readStream(datasetStreamId(summary.dataset.versionHash));
      expect(datasetEvents.map((e) => e.type)).toEqual(['dataset.registered', 'dataset.derived']);
      expect(datasetEvents[0].payload).toMatchObject({ name: 'distilled-cot', split: 'sft', rowCount: 3, source: 'distillation-cli-job.jsonl' });
      const jobEvents = await platform.eventStore.readStream(distillationStreamId('cli-job'));
      const lastVerdict = Math.max(...jobEvents.filter((e) => e.type.startsWith('trace.')).map((e) => e.position));
      expect(datasetEvents[1].payload).toEqual({
        versionHash: summary.dataset.versionHash,
        from: { kind: 'distillation', jobId: 'cli-job', streamId: 'distillation-cli-job', throughPosition: lastVerdict, sourceVersionHash: versionHash, teacherModel: 'teacher' },
      });
      expect(jobEvents[0].payload).toMatchObject({ sampling: { temperature: 0.6 }, codeVersion: expect.stringMatching(/^[0-9a-f]{12}$/) });
      expect(jobEvents.map((e) => e.type).slice(-2)).toEqual(['distillation.completed', 'distillation.dataset.registered']);
      expect(jobEvents.at(-1)!.payload).toMatchObject({ name: 'distilled-cot', versionHash: summary.dataset.versionHash, rowCount: 3 });
      const rows = readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { prompt: string; response: string });
      expect(rows.map((r) => /\[(Q\d)\]/.exec(r.prompt)![1])).toEqual(['Q1', 'Q3', 'Q5']);
      expect(rows[1].response).toBe('<think>Separate reasoning.</think>\\boxed{Yes}');
      // The written JSONL is the same content: importing it finds the distilled version (and its lineage).
      const reimported = await recon(['dataset', 'import', out, '--split', 'sft', '--json']);
      expect(JSON.parse(reimported.stdout)).toMatchObject({ versionHash: summary.dataset.versionHash, registered: false, name: 'distilled-cot' });

      // Registering again before the job changes records nothing new.
      const positions = [jobEvents.length, datasetEvents.length];
      expect((await distill('--temperature', '0.6', '--into', 'distilled-cot')).code).toBe(0);
      expect([
        (await platform.eventStore.readStream(distillationStreamId('cli-job'))).length,
        (await platform.eventStore.readStream(datasetStreamId(summary.dataset.versionHash))).length,
      ]).toEqual(positions);

      // `recon runs` lists the job with its counts.
      const listed = JSON.parse((await recon(['runs', '--json'])).stdout) as Array<Record<string, unknown>>;
      expect(listed.find((row) => row.run === 'distillation-cli-job')).toMatchObject({
        kind: 'distillation',
        status: 'completed',
        model: 'teacher',
        summary: expect.objectContaining({ items: 5, accepted: 3, rejected: 2 }),
      });
      expect((await recon(['runs'])).stdout).toContain('3 accepted / 2 rejected');

      // The same id with another model or sampling: a clear error, exit 1, nothing recorded.
      const reused = await distill('--temperature', '0.9');
      expect(reused.code).toBe(1);
      expect(reused.stderr).toBe(
        'recon: distillation job cli-job was recorded with other settings (sampling.temperature: 0.6 recorded, 0.9 now): ' +
          'run it again with the recorded settings to resume it, or name a new job with --job\n',
      );
      expect((await platform.eventStore.readStream(distillationStreamId('cli-job'))).length).toBe(positions[0]);
    } finally {
      await teacher.close();
    }
  });

  it('exits 1 when the job accepted no trace, and registers no dataset', async () => {
    const teacher = await startTeacher(() => 'wrong');
    try {
      const { versionHash } = await importDataset({ file: writeProblems(2), split: 'train' }, platform);
      const result = await recon(['dataset', 'distill', versionHash, '--base-url', teacher.url, '--model', 'teacher', '--job', 'all-wrong', '--into', 'nothing']);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('job all-wrong: 0 of 2 accepted');
      expect(result.stderr).toBe('recon: distillation job all-wrong accepted no trace of 2 item(s) (2 wrong answer, 0 no answer, 0 teacher failed); no dataset registered\n');
      const events = await platform.eventStore.readStream(distillationStreamId('all-wrong'));
      expect(events.some((e) => e.type === 'distillation.dataset.registered')).toBe(false);
      expect(events.at(-1)!.payload as PayloadOf<'distillation.completed'>).toMatchObject({ accepted: 0 });
      const listed = JSON.parse((await recon(['runs', '--json'])).stdout) as Array<Record<string, unknown>>;
      expect(listed.find((row) => row.run === 'distillation-all-wrong')).toMatchObject({ status: 'failed', failure: 'no trace accepted of 2 item(s)' });
    } finally {
      await teacher.close();
    }
  });
});
