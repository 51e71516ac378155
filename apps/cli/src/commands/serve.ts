import 'reflect-metadata';
import { Command, InvalidArgumentError } from 'commander';
import { isBackendName, selectBackend } from '@recon/policy';
import { loadPolicyCheckpoint } from '@recon/policy-runtime';
import {
  CheckpointNotFoundError,
  resolveCheckpoint,
  createServeApp,
  SERVE_TOKEN_ENV,
  serveTokenFrom,
  ServeTokenError,
} from '@recon/api';
import { CliFailure, withPlatform } from '../context';
import { readEnvironment } from '@recon/config';

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError(`not a port: '${value}'`);
  return port;
}

interface ServeOptions {
  port: number;
  host: string;
  modelName?: string;
  tokenFile?: string;
}

/** `recon serve <checkpoint>`: a built-in checkpoint as an OpenAI-compatible `/v1/chat/completions` server. */
export function serveCommand(): Command {
  return new Command('serve')
    .description(
      'serve a checkpoint (hash, or run[:stage]) as an OpenAI-compatible /v1/chat/completions endpoint; ' +
        `no token is required unless --token-file or ${SERVE_TOKEN_ENV} is given`,
    )
    .argument(
      '<checkpoint>',
      "a checkpoint hash, or <run>[:untrained|sft|grpo] (default: the run's last ready stage)",
    )
    .option('--port <port>', 'port to listen on (0: any free port)', parsePort, 8000)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--model-name <name>', 'the model id /v1/models lists (default: recon-<checkpoint hash prefix>)')
    .option(
      '--token-file <path>',
      `require "Authorization: Bearer <token>" with the token in this file (or the token in ${SERVE_TOKEN_ENV}); ` +
        'without either, any client that reaches the address may use the server',
    )
    .action(async (reference: string, options: ServeOptions) => {
      let auth;
      try {
        auth = serveTokenFrom(options.tokenFile);
      } catch (error) {
        if (error instanceof ServeTokenError) throw new CliFailure(error.message);
        throw error;
      }
      await withPlatform(async (platform, signal) => {
        let resolved;
        try {
          resolved = await resolveCheckpoint(platform, reference);
        } catch (error) {
          if (error instanceof CheckpointNotFoundError) throw new CliFailure(error.message);
          throw error;
        }
        const preferred = readEnvironment('RECON_BACKEND') ?? 'auto';
        await selectBackend(preferred === 'auto' || !isBackendName(preferred) ? 'auto' : preferred);
        const policy = await loadPolicyCheckpoint(platform.blobStore, resolved.checkpointHash);
        const modelName = options.modelName ?? `recon-${resolved.checkpointHash.slice(0, 12)}`;
        const app = await createServeApp(
          { policy, modelName, created: Math.floor(Date.now() / 1000) },
          { token: auth?.token },
        );
        await app.listen(options.port, options.host);
        const url = (await app.getUrl()).replace('[::1]', 'localhost');
        const from = resolved.runId ? ` (run ${resolved.runId}, ${resolved.stage})` : '';
        process.stdout.write(
          `recon serve: checkpoint ${resolved.checkpointHash}${from} as model ${modelName}, context ${policy.model.config.context}\n` +
            `listening on ${url}/v1 (POST /v1/chat/completions, GET /v1/models)\n` +
            (auth
              ? `bearer token required (from ${auth.source})\n`
              : `no token required (--token-file or ${SERVE_TOKEN_ENV} to require one)\n`),
        );
        await new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        await app.close();
        policy.model.dispose();
      });
    });
}
