import 'reflect-metadata';
import { Command, InvalidArgumentError } from 'commander';
import { isBackendName, selectBackend } from '@recon/policy';
import {
  CheckpointNotFoundError,
  createServeApp,
  loadServedPolicy,
  PolicyNotServableError,
  resolveCheckpoint,
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

/**
 * `recon serve <checkpoint>`: a checkpoint as an OpenAI-compatible `/v1/chat/completions` server: a built-in
 * one, or a pretrained run's stage (its recorded checkpoint directory with the stage's LoRA adapters).
 */
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
        try {
          resolved = await loadServedPolicy(platform, resolved);
        } catch (error) {
          if (error instanceof PolicyNotServableError) throw new CliFailure(error.message);
          throw error;
        }
        const { policy } = resolved;
        const modelName = options.modelName ?? `recon-${resolved.checkpointHash.slice(0, 12)}`;
        const app = await createServeApp(
          { policy, modelName, created: Math.floor(Date.now() / 1000) },
          { token: auth?.token },
        );
        await app.listen(options.port, options.host);
        const url = (await app.getUrl()).replace('[::1]', 'localhost');
        const stage = resolved.stage ? `, ${resolved.stage}` : '';
        const from = resolved.runId ? ` (run ${resolved.runId}${stage})` : '';
        const base = resolved.pretrainedPath ? `, LoRA adapters on ${resolved.pretrainedPath}` : '';
        process.stdout.write(
          `recon serve: checkpoint ${resolved.checkpointHash}${from}${base} as model ${modelName}, context ${policy.model.config.context}\n` +
            `listening on ${url}/v1 (POST /v1/chat/completions, GET /v1/models)\n` +
            (auth
              ? `bearer token required (from ${auth.source})\n`
              : `no token required (--token-file or ${SERVE_TOKEN_ENV} to require one)\n`),
        );
        await new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        await app.close();
        policy.dispose();
      });
    });
}
