import 'reflect-metadata';
import { Command, InvalidArgumentError } from 'commander';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { isBackendName, selectBackend } from '@recon/policy';
import { loadPolicyCheckpoint } from '@recon/policy-runtime';
import { CheckpointNotFoundError, resolveCheckpoint } from '../../serve/resolve-checkpoint';
import { ServeModule } from '../../serve/serve.module';
import { CliFailure, withPlatform } from '../context';

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError(`not a port: '${value}'`);
  return port;
}

/** `recon serve <checkpoint>`: a built-in checkpoint as an OpenAI-compatible `/v1/chat/completions` server. */
export function serveCommand(): Command {
  return new Command('serve')
    .description(
      'serve a checkpoint (hash, or run[:stage]) as an OpenAI-compatible /v1/chat/completions endpoint',
    )
    .argument(
      '<checkpoint>',
      "a checkpoint hash, or <run>[:untrained|sft|grpo] (default: the run's last ready stage)",
    )
    .option('--port <port>', 'port to listen on (0: any free port)', parsePort, 8000)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--model-name <name>', 'the model id /v1/models lists (default: recon-<checkpoint hash prefix>)')
    .action(async (reference: string, options: { port: number; host: string; modelName?: string }) => {
      await withPlatform(async (platform, signal) => {
        let resolved;
        try {
          resolved = await resolveCheckpoint(platform, reference);
        } catch (error) {
          if (error instanceof CheckpointNotFoundError) throw new CliFailure(error.message);
          throw error;
        }
        const preferred = process.env.RECON_BACKEND ?? 'auto';
        await selectBackend(preferred === 'auto' || !isBackendName(preferred) ? 'auto' : preferred);
        const policy = await loadPolicyCheckpoint(platform.blobStore, resolved.checkpointHash);
        const modelName = options.modelName ?? `recon-${resolved.checkpointHash.slice(0, 12)}`;
        const app = await NestFactory.create<NestExpressApplication>(
          ServeModule.forRoot({ policy, modelName, created: Math.floor(Date.now() / 1000) }),
          { logger: ['error', 'warn'] },
        );
        app.useBodyParser('json', { limit: '16mb' });
        await app.listen(options.port, options.host);
        const url = (await app.getUrl()).replace('[::1]', 'localhost');
        const from = resolved.runId ? ` (run ${resolved.runId}, ${resolved.stage})` : '';
        process.stdout.write(
          `recon serve: checkpoint ${resolved.checkpointHash}${from} as model ${modelName}, context ${policy.model.config.context}\n` +
            `listening on ${url}/v1 (POST /v1/chat/completions, GET /v1/models)\n`,
        );
        await new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        await app.close();
        policy.model.dispose();
      });
    });
}
