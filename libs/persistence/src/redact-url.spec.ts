import { redactUrl } from './platform';

describe('redactUrl', () => {
  it.each([
    ['postgres://recon:secret@db:5432/recon', 'postgres://recon:***@db:5432/recon'],
    ['postgres://recon:p@ss:w/ord?x@db.example:5432/recon', 'postgres://recon:***@db.example:5432/recon'],
    ['postgres://db/recon?sslmode=require&password=hunter2', 'postgres://db/recon?sslmode=require&password=***'],
    ['postgresql://u:a%40b@h/d?sslpassword=k&x=1', 'postgresql://u:***@h/d?sslpassword=***&x=1'],
    ['postgres://postgres@127.0.0.1:5432/postgres', 'postgres://postgres@127.0.0.1:5432/postgres'],
    ['postgres://127.0.0.1:5432/postgres', 'postgres://127.0.0.1:5432/postgres'],
  ])('%s -> %s', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });

  it('never leaves any part of a password with special characters', () => {
    for (const password of ['p@ss', 'a/b@c', 'x:y:z', 'q?w=e&r', '@@@']) {
      expect(redactUrl(`postgres://recon:${password}@db/recon`)).not.toContain(password.slice(1));
    }
  });
});
