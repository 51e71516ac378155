import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { ALL_EVENTS, renderAsyncApiYaml, topicFor } from '@recon/contracts';

describe('docs/asyncapi.yaml', () => {
  const committed = readFileSync(resolve(__dirname, '../../docs/asyncapi.yaml'), 'utf8');

  it('is in sync with libs/contracts (regenerate with `npm run asyncapi`)', () => {
    expect(committed).toBe(renderAsyncApiYaml());
  });

  it('describes every event type and version on its owner topic', () => {
    const document = parse(committed);
    expect(document.asyncapi).toBe('3.0.0');
    for (const def of ALL_EVENTS) {
      const name = `${def.type.replace(/\./g, '_')}_v${def.version}`;
      const channel = Object.values(document.channels as Record<string, { address: string; messages: object }>).find(
        (c) => c.address === topicFor(def.owner),
      );
      expect(channel?.messages).toHaveProperty(name);
      expect(document.components.messages[name].payload.properties.payload.type).toBe('object');
    }
  });
});
