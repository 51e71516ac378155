import { Client } from 'pg';

/**
 * Runs SQL as an attacker with write access to the database would: the append-only triggers of the log
 * (migration AppendOnlyLog) refuse UPDATE and DELETE, so the session first turns them off the way a
 * superuser can (`session_replication_role = replica` skips ordinary triggers; a role owning the tables
 * could equally `ALTER TABLE … DISABLE TRIGGER`). What such an attacker changes is what the audit and the
 * signed checkpoints must catch.
 */
export async function asAttacker<T>(databaseUrl: string, body: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SET session_replication_role = replica');
    return await body(client);
  } finally {
    await client.end();
  }
}

/** `asAttacker` for one statement. */
export function tamper(databaseUrl: string, sql: string, values: unknown[] = []): Promise<unknown> {
  return asAttacker(databaseUrl, (client) => client.query(sql, values));
}
