import { isConnectionLoss, retryOnConnectionLoss } from './connection-loss';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('isConnectionLoss', () => {
  it('recognises an unreachable server, a terminated session and a server shutting down or starting', () => {
    expect(isConnectionLoss(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))).toBe(true);
    expect(isConnectionLoss(withCode('terminating connection due to administrator command', '57P01'))).toBe(
      true,
    );
    expect(isConnectionLoss(withCode('the database system is starting up', '57P03'))).toBe(true);
    expect(isConnectionLoss(withCode('connection failure', '08006'))).toBe(true);
    expect(isConnectionLoss(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(
      isConnectionLoss(new AggregateError([withCode('a', 'ECONNREFUSED'), withCode('b', 'ECONNREFUSED')])),
    ).toBe(true);
    expect(isConnectionLoss(new Error('wrapped', { cause: withCode('x', 'ECONNRESET') }))).toBe(true);
  });

  it('leaves errors about the statement alone', () => {
    expect(isConnectionLoss(withCode('duplicate key value violates unique constraint', '23505'))).toBe(false);
    expect(isConnectionLoss(withCode('syntax error', '42601'))).toBe(false);
    expect(isConnectionLoss(new Error('dataset x is not registered'))).toBe(false);
    expect(isConnectionLoss('ECONNREFUSED')).toBe(false);
  });
});

describe('retryOnConnectionLoss', () => {
  it('retries while the server is unreachable and logs the outage and the recovery once each', async () => {
    const lines: string[] = [];
    let calls = 0;
    const result = await retryOnConnectionLoss(
      'a read',
      async () => {
        calls += 1;
        if (calls < 3) throw withCode('connect ECONNREFUSED', 'ECONNREFUSED');
        return 'rows';
      },
      { log: (line) => lines.push(line) },
    );
    expect([result, calls]).toEqual(['rows', 3]);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('PostgreSQL unreachable during a read');
    expect(lines[1]).toContain('reachable again');
  });

  it('throws any other error at once, and a connection loss once its time is up', async () => {
    let calls = 0;
    const statement = withCode('syntax error', '42601');
    await expect(
      retryOnConnectionLoss('a query', async () => {
        calls += 1;
        throw statement;
      }),
    ).rejects.toBe(statement);
    expect(calls).toBe(1);
    const refused = withCode('connect ECONNREFUSED', 'ECONNREFUSED');
    await expect(
      retryOnConnectionLoss(
        'a query',
        async () => {
          throw refused;
        },
        { maxRetryMs: 0, log: () => undefined },
      ),
    ).rejects.toBe(refused);
  });
});
