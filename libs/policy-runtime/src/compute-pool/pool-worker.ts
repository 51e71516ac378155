import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@recon/policy';
import { GenerationPolicies } from './generation-policies';
import { GrpoReplica } from './grpo-replica';
import { wasmFailure } from './heap-guard';
import type { PoolRequest, WorkerMessage } from './protocol';
import { SftReplica } from './sft-replica';

/** The compute pool's worker thread: answers the main thread's requests one at a time, in order. */
const port = parentPort;
if (!port) throw new Error('pool-worker runs in a worker thread');

const sft = new Map<string, SftReplica>();
const grpo = new Map<string, GrpoReplica>();
const policies = new GenerationPolicies();

function replica(session: string): SftReplica {
  const found = sft.get(session);
  if (!found) throw new Error(`no SFT session ${session}`);
  return found;
}

function grpoReplica(session: string): GrpoReplica {
  const found = grpo.get(session);
  if (!found) throw new Error(`no GRPO session ${session}`);
  return found;
}

function close(session: string): void {
  sft.get(session)?.dispose();
  sft.delete(session);
  grpo.get(session)?.dispose();
  grpo.delete(session);
}

async function handle(request: PoolRequest): Promise<unknown> {
  switch (request.kind) {
    case 'init': {
      const { skipped: _skipped, ...info } = await selectBackend(request.backend, request.requirement);
      return info;
    }
    case 'sft.open': {
      close(request.session);
      const opened = new SftReplica(request);
      sft.set(request.session, opened);
      return { parameters: opened.parameters };
    }
    case 'sft.gradients':
      return replica(request.session).gradients();
    case 'sft.apply':
      return replica(request.session).apply();
    case 'sft.state':
      return replica(request.session).state();
    case 'grpo.open': {
      close(request.session);
      const opened = new GrpoReplica(request);
      grpo.set(request.session, opened);
      return { parameters: opened.parameters };
    }
    case 'grpo.gradients':
      return grpoReplica(request.session).gradients(request.groups);
    case 'grpo.apply':
      return grpoReplica(request.session).apply();
    case 'grpo.state':
      return grpoReplica(request.session).state();
    case 'close':
      close(request.session);
      return null;
    case 'memory': {
      const { numTensors, numBytes } = tf.memory();
      return { tensors: numTensors, bytes: numBytes };
    }
    case 'generate':
      return policies.generate(request.key, request.policy, request.requests, request.options);
    case 'generate.constrained':
      return policies.generateConstrained(
        request.key,
        request.policy,
        request.request,
        request.allowed,
        request.options,
      );
  }
}

let turn: Promise<void> = Promise.resolve();
port.on('message', ({ id, request }: { id: number; request: PoolRequest }) => {
  turn = turn.then(async () => {
    let reply: WorkerMessage;
    try {
      reply = { id, ok: true, result: await handle(request) };
    } catch (error) {
      const failure = wasmFailure(error);
      reply = failure
        ? { id, ok: false, fatal: true, error: `${request.kind}: ${failure}; the worker ends` }
        : { id, ok: false, error: (error as Error)?.message ?? String(error) };
    }
    port.postMessage(reply);
    // An aborted wasm instance answers nothing correctly again: end this thread (the pool fails with the reply).
    if (!reply.ok && reply.fatal) process.exit(1);
  });
});
