/**
 * Keeps an embedded PostgreSQL (the same code the platform uses without DATABASE_URL) running until it is
 * sent SIGTERM or SIGINT, and writes its URL to a file. The test script uses it to run the integration
 * tests against the embedded server too.
 *   node dist/scripts/embedded-db.js --home <dir> --url-file <file>
 */
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { startEmbeddedPostgres } from '@recon/persistence';

async function main(): Promise<void> {
  const options = new Command('embedded-db')
    .requiredOption('--home <dir>', 'directory for the server data')
    .requiredOption('--url-file <file>', 'where to write the connection URL once the server is ready')
    .parse(process.argv)
    .opts<{ home: string; urlFile: string }>();
  const server = await startEmbeddedPostgres(options.home);
  writeFileSync(options.urlFile, server.url);
  process.stdout.write(`embedded PostgreSQL ready (${server.owned ? 'started' : 'joined'})\n`);
  const stop = () => {
    void server.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  setInterval(() => undefined, 1 << 30);
}

main().catch((error) => {
  process.stderr.write(`embedded-db: ${(error as Error).message}\n`);
  process.exit(1);
});
