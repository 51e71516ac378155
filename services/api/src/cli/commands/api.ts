import 'reflect-metadata';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { InProcessEventBus } from '@recon/transport';
import { PlatformModule, issueToken, verifyToken } from '@recon/service-kit';
import type { Platform } from '@recon/persistence';
import { ApiModule } from '../../http/api.module';
import { cliProducer, withPlatform } from '../context';

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError(`not a port: '${value}'`);
  return port;
}

/**
 * Single-user embedded mode: a local admin token kept in $RECON_HOME/admin-token (mode 0600), created on
 * first use and reused while it is valid.
 */
async function ensureLocalAdminToken(platform: Platform): Promise<string> {
  const file = join(platform.home, 'admin-token');
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    try {
      await verifyToken(platform, token);
      return file;
    } catch {
      // revoked or unknown (e.g. a new database): issue a new one
    }
  }
  const issued = await issueToken(
    platform,
    { name: 'local admin', role: 'admin', expiresInMs: null, actor: 'embedded' },
    cliProducer(),
  );
  writeFileSync(file, `${issued.token}\n`, { mode: 0o600 });
  return file;
}

export function apiCommand(): Command {
  return new Command('api')
    .description('serve the HTTP gateway (every route but /health needs a bearer token)')
    .option('--port <port>', 'port to listen on', parsePort, 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (options: { port: number; host: string }) => {
      await withPlatform(async (platform, signal) => {
        const bus = new InProcessEventBus(platform.eventStore, platform.pool);
        @Module({ imports: [PlatformModule.forRoot(platform, bus), ApiModule.forRoot()] })
        class GatewayModule {}
        const app = await NestFactory.create(GatewayModule, { logger: ['error', 'warn'] });
        app.enableShutdownHooks();
        await app.listen(options.port, options.host);
        process.stdout.write(`recon api listening on ${await app.getUrl()}\n`);
        if (platform.embedded) {
          process.stdout.write(
            `local admin token (embedded mode): ${await ensureLocalAdminToken(platform)}\n`,
          );
        }
        await new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        await app.close();
        await bus.close();
      });
    });
}
