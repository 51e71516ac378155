import { Command } from 'commander';
import { pendingMigrations, redactUrl } from '@recon/persistence';
import { withPlatform } from '../context';
import { printJsonOr } from '../output';

export function migrateCommand(): Command {
  return new Command('migrate')
    .description('apply pending database migrations (embedded mode applies them automatically)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withPlatform(
        async (platform) => {
          const pending = await pendingMigrations(platform.dataSource);
          const applied = (await platform.dataSource.query(
            'SELECT name FROM recon_migrations ORDER BY id',
          )) as Array<{
            name: string;
          }>;
          printJsonOr(
            { database: redactUrl(platform.databaseUrl), applied: applied.map((m) => m.name), pending },
            () =>
              `database ${redactUrl(platform.databaseUrl)}: ${applied.length} migration(s) applied, none pending`,
            options,
          );
        },
        { migrations: 'auto' },
      );
    });
}
