import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { listEventDefinitions, streamKindOf } from '@recon/contracts';
import { defaultProjectors } from '@recon/persistence';

const root = resolve(__dirname, '../..');
const read = (file: string) => readFileSync(resolve(root, file), 'utf8');

describe('README.md', () => {
  const readme = read('README.md');

  it('stays a front page: under 10 KB', () => {
    expect(Buffer.byteLength(readme)).toBeLessThan(10 * 1024);
  });

  it('gives the set-up, main-job and test commands CI and newcomers rely on', () => {
    for (const command of ['npm run setup', 'npm start', 'npm test'])
      expect(readme).toMatch(new RegExp(`^${command.replace(/ /g, ' +')}\\s+#`, 'm'));
  });
});

describe('docs/architecture.md', () => {
  const architecture = read('docs/architecture.md');
  const mentioned = (name: string) =>
    architecture.includes(`\`${name}\``) || architecture.includes(` ${name}`);

  it('names every event type in the event flow or its tables', () => {
    const types = [...new Set(listEventDefinitions().map((definition) => definition.type))];
    expect({ missing: types.filter((type) => !mentioned(type)) }).toEqual({ missing: [] });
  });

  it('names every stream kind', () => {
    const kinds = [
      ...new Set(listEventDefinitions().map((definition) => streamKindOf(definition.type))),
    ].filter((kind) => kind !== 'other');
    expect({ missing: kinds.filter((kind) => !architecture.includes(`| \`${kind}\` |`)) }).toEqual({
      missing: [],
    });
  });

  it('names every projector and the tables it writes', () => {
    const missing = defaultProjectors().flatMap((projector) =>
      [`| \`${projector.name}\` |`, ...projector.tables.map((table) => `\`${table.name}\``)].filter(
        (text) => !architecture.includes(text),
      ),
    );
    expect({ missing }).toEqual({ missing: [] });
  });
});
