import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventStore } from '@recon/eventlog';
import { distillationStreamId, importDataset, runDistillation } from '../../services/data/src';
import { createTestPlatform, type TestPlatform } from '../support/platform';

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
        { jobId: 'job-a', datasetVersion: versionHash, baseUrl: teacher.url, model: 'teacher', concurrency: 3, retries: 2, timeoutMs: 1500, minBackoffMs: 10 },
        platform,
      );
      expect(summary).toMatchObject({ items: 7, accepted: 4, rejected: { wrongAnswer: 1, noAnswer: 1, teacherFailed: 1 }, requests: 9 });
      expect(Object.fromEntries(teacher.hits)).toEqual({ Q1: 1, Q2: 1, Q3: 1, Q4: 2, Q5: 2, Q6: 1, Q7: 1 });

      const events = await platform.eventStore.readStream(distillationStreamId('job-a'));
      const count = (type: string) => events.filter((e) => e.type === type).length;
      expect([count('teacher.request.sent'), count('teacher.response.received'), count('trace.accepted'), count('trace.rejected')]).toEqual([9, 9, 4, 3]);
      const outcomes = events.filter((e) => e.type === 'teacher.response.received').map((e) => (e.payload as { outcome: string }).outcome).sort();
      expect(outcomes).toEqual(['http-error', 'http-error', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'timeout']);

      const accepted = events.filter((e) => e.type === 'trace.accepted').map((e) => e.payload as { rowIndex: number; traceBlobHash: string });
      const q6 = accepted.find((p) => p.rowIndex === 5);
      expect((await platform.blobStore.get(q6!.traceBlobHash)).toString()).toBe('<think>Separate reasoning.</think>\\boxed{Yes}');

      // A second run of the same job finds everything done and asks nothing.
      const again = await runDistillation(
        { jobId: 'job-a', datasetVersion: versionHash, baseUrl: teacher.url, model: 'teacher', retryFailed: false, timeoutMs: 400 },
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
      // The process "dies" on its 6th append: item 1 is finished, item 2's response is recorded but not graded.
      let appends = 0;
      const crashing: EventStore = Object.create(platform.eventStore) as EventStore;
      crashing.append = (...args) => {
        appends += 1;
        if (appends === 6) return Promise.reject(new Error('simulated crash'));
        return platform.eventStore.append(...args);
      };
      const options = { jobId: 'job-crash', datasetVersion: versionHash, baseUrl: teacher.url, model: 'teacher', concurrency: 1, minBackoffMs: 10 };
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
