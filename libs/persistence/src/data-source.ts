import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '@recon/migrations';
import { ENTITIES } from './entities';

export function createDataSource(databaseUrl: string): DataSource {
  return new DataSource({
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'recon_migrations',
    synchronize: false,
    logging: false,
    extra: { max: 4 },
  });
}

/** Migration names not yet applied to the database. */
export async function pendingMigrations(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  try {
    const hasTable = await runner.hasTable('recon_migrations');
    const applied = hasTable
      ? new Set(
          (await runner.query('SELECT name FROM recon_migrations')).map((row: { name: string }) => row.name),
        )
      : new Set<string>();
    return dataSource.migrations.map((migration) => migration.name ?? migration.constructor.name).filter(
      (name) => !applied.has(name),
    );
  } finally {
    await runner.release();
  }
}
