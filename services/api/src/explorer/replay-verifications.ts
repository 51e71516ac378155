import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { FileBlobStore } from '@recon/eventlog';
import type { Platform } from '@recon/persistence';
import { PLATFORM } from '@recon/service-kit';

/** The state of one `recon replay <run> --verify` the explorer started. */
export interface VerificationJob {
  runId: string;
  state: 'running' | 'succeeded' | 'diverged' | 'failed';
  startedAt: string;
  finishedAt: string | null;
  startedBy: string;
  exitCode: number | null;
  /** The command's last lines of output (its progress lines while it runs, then its verdict). */
  output: string[];
}

const KEPT_LINES = 200;

/** bin/recon of this checkout (from services/api/src/explorer, or dist/services/api/src/explorer). */
function reconBin(): string {
  const candidates = [
    resolve(__dirname, '../../../../bin/recon'),
    resolve(__dirname, '../../../../../bin/recon'),
  ];
  return candidates.find((file) => existsSync(file)) ?? candidates[0];
}

/** Terminal colour codes (ESC [ … letter) and carriage returns, which a page shows as noise. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, 'g');
const stripControl = (line: string) => line.replace(ANSI, '').replace(/\r/g, '');

/**
 * Starts `recon replay <run> --verify` as a child process of the gateway against the same database, blob
 * store and home (so it appends `run.replay.verified` to the run, which the audit page then lists), one at a
 * time per run, and keeps its output for the page to show. Running verifications end with the gateway.
 */
@Injectable()
export class ReplayVerifications implements BeforeApplicationShutdown {
  private readonly jobs = new Map<string, VerificationJob>();
  private readonly children = new Set<ChildProcess>();

  constructor(@Inject(PLATFORM) private readonly platform: Platform) {}

  get(runId: string): VerificationJob | null {
    return this.jobs.get(runId) ?? null;
  }

  /** Starts a verification of the run, or returns null when one is already running. */
  start(runId: string, startedBy: string): VerificationJob | null {
    if (this.jobs.get(runId)?.state === 'running') return null;
    const job: VerificationJob = {
      runId,
      state: 'running',
      startedAt: new Date().toISOString(),
      finishedAt: null,
      startedBy,
      exitCode: null,
      output: [],
    };
    this.jobs.set(runId, job);
    const blobDir =
      this.platform.blobStore instanceof FileBlobStore
        ? this.platform.blobStore.root
        : join(this.platform.home, 'blobs');
    const child = spawn(process.execPath, [reconBin(), 'replay', runId, '--verify'], {
      env: {
        ...process.env,
        DATABASE_URL: this.platform.databaseUrl,
        RECON_HOME: this.platform.home,
        RECON_BLOB_DIR: blobDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.add(child);
    const collect = (chunk: Buffer) => {
      const lines = stripControl(chunk.toString())
        .split('\n')
        .filter((line) => line.trim() !== '');
      job.output.push(...lines);
      if (job.output.length > KEPT_LINES) job.output.splice(0, job.output.length - KEPT_LINES);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    child.on('error', (error) => collect(Buffer.from(`could not start recon: ${error.message}`)));
    child.on('close', (code) => {
      this.children.delete(child);
      job.exitCode = code;
      job.finishedAt = new Date().toISOString();
      const diverged = job.output.some((line) => line.startsWith('DIVERGES'));
      job.state = code === 0 ? 'succeeded' : diverged ? 'diverged' : 'failed';
    });
    return job;
  }

  beforeApplicationShutdown(): void {
    for (const child of this.children) child.kill('SIGTERM');
  }
}
