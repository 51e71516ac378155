import type { Worker } from 'node:worker_threads';
import type { BackendInfo, BackendName, BackendRequirement } from '@recon/policy';
import { GENERATION_POLICIES_PER_WORKER, PoolRequest, ReplyOf, WorkerMessage } from './protocol';
import { startWorkerThread } from './worker-script';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface Slot {
  index: number;
  thread: Worker;
  pending: Map<number, Pending>;
  /** Generation policies the worker holds, least recently used first (mirrors its cache). */
  policies: string[];
}

export interface ComputePoolOptions {
  workers: number;
  backend: BackendName;
  requirement?: BackendRequirement;
}

/**
 * Worker threads, each with its own tfjs on the run's backend, that train and sample the policy off the
 * main event loop. Requests to one worker run in the order sent. A worker that dies (an uncaught error, a
 * wasm abort, an exit) fails every request it had and every later one, naming the worker and its error.
 */
export class ComputePool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private failure: Error | null = null;
  private closing = false;
  /** The backend as worker 0 started it. */
  backend!: Omit<BackendInfo, 'skipped'>;

  private constructor(readonly options: ComputePoolOptions) {}

  static async start(options: ComputePoolOptions): Promise<ComputePool> {
    if (!Number.isInteger(options.workers) || options.workers < 1)
      throw new Error(`ComputePool: workers must be a positive integer, not ${options.workers}`);
    const pool = new ComputePool(options);
    for (let index = 0; index < options.workers; index++) pool.spawn(index);
    try {
      const started = await pool.broadcast(() => ({
        kind: 'init',
        backend: options.backend,
        requirement: options.requirement ?? {},
      }));
      pool.backend = started[0];
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get size(): number {
    return this.slots.length;
  }

  /** Why the pool can no longer be used (a worker died), or null. */
  get broken(): Error | null {
    return this.failure;
  }

  private spawn(index: number): void {
    const thread = startWorkerThread(`recon-policy-${index}`);
    const slot: Slot = { index, thread, pending: new Map(), policies: [] };
    this.slots.push(slot);
    thread.unref();
    thread.on('message', (message: WorkerMessage) => {
      const pending = slot.pending.get(message.id);
      if (!pending) return;
      slot.pending.delete(message.id);
      if (slot.pending.size === 0) thread.unref();
      if (message.ok) pending.resolve(message.result);
      else {
        const error = new Error(`policy compute worker ${index}: ${message.error}`);
        pending.reject(error);
        if (message.fatal) this.fail(error);
      }
    });
    thread.on('error', (error) =>
      this.fail(new Error(`policy compute worker ${index} crashed: ${error.message || String(error)}`)),
    );
    thread.on('exit', (code) => {
      if (!this.closing)
        this.fail(new Error(`policy compute worker ${index} exited unexpectedly (code ${code})`));
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const slot of this.slots) {
      for (const pending of slot.pending.values()) pending.reject(this.failure);
      slot.pending.clear();
    }
    if (!this.closing) void this.close();
  }

  /** Sends one request to worker `index`; resolves with its reply. */
  request<R extends PoolRequest>(
    index: number,
    request: R,
    transfer: ArrayBuffer[] = [],
  ): Promise<ReplyOf<R['kind']>> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error('ComputePool: closed'));
    const slot = this.slots[index];
    if (!slot) throw new Error(`ComputePool: no worker ${index} (the pool has ${this.slots.length})`);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // A worker with work in flight keeps the process alive; an idle one does not.
      if (slot.pending.size === 0) slot.thread.ref();
      slot.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      slot.thread.postMessage({ id, request }, transfer);
    });
  }

  /** Sends each worker its request (made by `make(index)`) and waits for all replies, in worker order. */
  broadcast<R extends PoolRequest>(make: (index: number) => R): Promise<Array<ReplyOf<R['kind']>>> {
    return Promise.all(this.slots.map((slot) => this.request(slot.index, make(slot.index))));
  }

  private posting: Promise<unknown> = Promise.resolve();

  /**
   * Runs `post` after every earlier call's `post` has finished: callers that decide what a worker holds
   * (needsPolicy) and then send it must not be overtaken by another caller's requests in between.
   */
  serially<T>(post: () => Promise<T>): Promise<T> {
    const turn = this.posting.then(post);
    this.posting = turn.catch(() => undefined);
    return turn;
  }

  /**
   * Whether worker `index` must be sent policy `key`'s content; marks it held (least recently used dropped,
   * as the worker's own cache does).
   */
  needsPolicy(index: number, key: string): boolean {
    const held = this.slots[index].policies;
    const at = held.indexOf(key);
    if (at >= 0) held.splice(at, 1);
    held.push(key);
    if (held.length > GENERATION_POLICIES_PER_WORKER) held.shift();
    return at < 0;
  }

  /** After a failed generate: worker `index` may not hold `key`. */
  forgetPolicy(index: number, key: string): void {
    const held = this.slots[index].policies;
    const at = held.indexOf(key);
    if (at >= 0) held.splice(at, 1);
  }

  /** For tests of crash handling: ends worker `index` as a crash would. */
  async terminateWorker(index: number): Promise<void> {
    await this.slots[index].thread.terminate();
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const slot of this.slots) {
      for (const pending of slot.pending.values())
        pending.reject(this.failure ?? new Error('ComputePool: closed'));
      slot.pending.clear();
    }
    await Promise.all(this.slots.map((slot) => slot.thread.terminate()));
  }
}

const shared = new Map<string, Promise<ComputePool>>();

/**
 * The process's pool for these options, started on first use: the services of one process (training,
 * rollout, evaluation) share its workers, so they never ask for more threads than there are cores. A pool
 * whose worker died is replaced by the next call.
 */
export async function sharedComputePool(options: ComputePoolOptions): Promise<ComputePool> {
  const key = JSON.stringify([options.workers, options.backend, options.requirement ?? {}]);
  const existing = shared.get(key);
  if (existing) {
    const pool = await existing.catch(() => null);
    if (pool && !pool.broken) return pool;
    if (shared.get(key) === existing) shared.delete(key);
    return sharedComputePool(options);
  }
  const started = ComputePool.start(options);
  shared.set(key, started);
  started.catch(() => {
    if (shared.get(key) === started) shared.delete(key);
  });
  return started;
}

/** Ends every shared pool (tests; a process that exits does not need to). */
export async function closeSharedComputePools(): Promise<void> {
  const pools = [...shared.values()];
  shared.clear();
  await Promise.all(pools.map((p) => p.then((pool) => pool.close()).catch(() => undefined)));
}

/**
 * The shared pool on the backend this process selected, with the run's worker count. On wasm-openblas each
 * worker runs its matmuls on one OpenBLAS thread, whatever this process chose: the workers are the
 * parallelism, and concurrent multi-threaded OpenBLAS calls serialise on its level-3 lock (measured: two
 * workers at two BLAS threads each took twice the CPU per SFT step of two at one). OpenBLAS's thread count
 * is process-wide and changes the last bits of a matmul, so a run records the workers' (one) and a replay
 * asks for it.
 */
export function policyComputePool(backend: BackendInfo, workers: number): Promise<ComputePool> {
  return sharedComputePool({
    workers,
    backend: backend.name,
    requirement: backend.name === 'wasm-openblas' ? { blas: backend.blas, threads: 1 } : {},
  });
}
