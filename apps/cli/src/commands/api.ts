import 'reflect-metadata';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { Module } from '@nestjs/common';
import { InProcessEventBus } from '@recon/transport';
import { createServiceApp, PlatformModule } from '@recon/service-kit';
import { ApiModule, ensureLocalAdminToken, LocalAdminTokenError } from '@recon/api';
import { CliFailure, cliProducer, withPlatform } from '../context';

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError(`not a port: '${value}'`);
  return port;
}

export function apiCommand(): Command {
  return new Command('api')
    .description('serve the HTTP gateway (every route but /health needs a bearer token)')
    .option('--port <port>', 'port to listen on', parsePort, 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (options: { port: number; host: string }) => {
      await withPlatform(async (platform, signal) => {
        // The local token first: a file that cannot be used stops the command before it listens.
        const local = platform.embedded
          ? await ensureLocalAdminToken(platform, join(platform.home, 'admin-token'), cliProducer()).catch(
              (error: unknown) => {
                if (error instanceof LocalAdminTokenError) throw new CliFailure(error.message);
                throw error;
              },
            )
          : null;
        const bus = new InProcessEventBus(platform.eventStore, platform.pool);
        @Module({ imports: [PlatformModule.forRoot(platform, bus), ApiModule.forRoot()] })
        class GatewayModule {}
        const app = await createServiceApp(GatewayModule);
        await app.listen(options.port, options.host);
        process.stdout.write(`recon api listening on ${await app.getUrl()}\n`);
        process.stdout.write(`run explorer: ${await app.getUrl()}/ (sign in with an API token)\n`);
        if (local?.note) process.stdout.write(`${local.note}\n`);
        if (local) process.stdout.write(`local admin token (embedded mode): ${local.file}\n`);
        await new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        await app.close();
        await bus.close();
      });
    });
}
