import { createServer } from 'node:net';
import { Pool } from 'pg';
import { retryOnConnectionLossPool } from './retrying-pool';

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('retryOnConnectionLossPool', () => {
  it('retries connect() and query() while the server is unreachable, then fails with the connection error', async () => {
    const lines: string[] = [];
    const pool = retryOnConnectionLossPool(
      new Pool({ host: '127.0.0.1', port: await closedPort(), user: 'nobody', database: 'none' }),
      { maxRetryMs: 600, log: (line) => lines.push(line) },
    );
    try {
      await expect(pool.connect()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await expect(pool.query('SELECT 1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      expect(lines).toEqual([
        expect.stringContaining('PostgreSQL unreachable during connect'),
        expect.stringContaining("PostgreSQL unreachable during query 'SELECT 1'"),
      ]);
      // The callback form (what pg-pool itself uses) is passed through untouched.
      const error = await new Promise<Error>((resolve) => pool.query('SELECT 1', (e: Error) => resolve(e)));
      expect(error).toMatchObject({ code: 'ECONNREFUSED' });
      expect(lines).toHaveLength(2);
    } finally {
      await pool.end();
    }
  });
});
