import { redactUrl } from './redact-url';

describe('redactUrl', () => {
  it.each([
    ['postgres://recon:secret@db:5432/recon', 'postgres://recon:***@db:5432/recon'],
    ['postgres://recon:p@ss:w/ord?x@db.example:5432/recon', 'postgres://recon:***@db.example:5432/recon'],
    ['postgres://db/recon?sslmode=require&password=hunter2', 'postgres://db/recon?sslmode=require&password=***'],
    ['postgresql://u:a%40b@h/d?sslpassword=k&x=1', 'postgresql://u:***@h/d?sslpassword=***&x=1'],
    ['postgres://postgres@127.0.0.1:5432/postgres', 'postgres://postgres@127.0.0.1:5432/postgres'],
    ['postgres://127.0.0.1:5432/postgres', 'postgres://127.0.0.1:5432/postgres'],
    ['http://127.0.0.1:8000/v1', 'http://127.0.0.1:8000/v1'],
    ['https://user:sk-live@models.example/v1', 'https://user:***@models.example/v1'],
    ['https://models.example/v1?api-key=sk-1&region=eu', 'https://models.example/v1?api-key=***&region=eu'],
    ['https://models.example/v1?region=eu&key=abc&access_token=t#x', 'https://models.example/v1?region=eu&key=***&access_token=***#x'],
  ])('%s -> %s', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });

  it('never leaves any part of a password with special characters', () => {
    for (const password of ['p@ss', 'a/b@c', 'x:y:z', 'q?w=e&r', '@@@']) {
      expect(redactUrl(`postgres://recon:${password}@db/recon`)).not.toContain(password.slice(1));
    }
  });
});
