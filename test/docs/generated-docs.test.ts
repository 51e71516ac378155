import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ENVIRONMENT_VARIABLES } from '@recon/config';
import { experimentConfigKeys } from '../../scripts/docs/configuration-reference';
import { scanEnvironmentReads, scanScriptVariables } from '../../scripts/docs/environment-scan';
import {
  SCRIPT_VARIABLE_MEANINGS,
  SCRIPT_VARIABLES_DOCUMENTED_ELSEWHERE,
} from '../../scripts/docs/environment-variables';
import { EXPERIMENT_CONFIG_DESCRIPTIONS } from '../../scripts/docs/experiment-config-descriptions';
import { buildProgramForDocs, generatedDocs } from '../../scripts/docs/generated-docs';

const root = resolve(__dirname, '../..');

describe('generated documentation', () => {
  it.each(generatedDocs(root).map((doc) => [doc.file, doc] as const))(
    '%s is in sync with the code (regenerate with `npm run docs`)',
    (file, doc) => {
      expect(readFileSync(join(root, file), 'utf8')).toBe(doc.render());
    },
  );

  it('lists every environment variable the code reads, and none it does not', () => {
    const documented = Object.keys(ENVIRONMENT_VARIABLES);
    const read = [...scanEnvironmentReads(root).keys()];
    expect({ undocumented: read.filter((name) => !documented.includes(name)).sort() }).toEqual({
      undocumented: [],
    });
    expect({ readNowhere: documented.filter((name) => !read.includes(name)).sort() }).toEqual({
      readNowhere: [],
    });
  });

  it('gives every script variable a meaning, and no meaning to a variable no script reads', () => {
    const read = scanScriptVariables(root)
      .map((variable) => variable.name)
      .filter((name) => !SCRIPT_VARIABLES_DOCUMENTED_ELSEWHERE.includes(name));
    const described = Object.keys(SCRIPT_VARIABLE_MEANINGS);
    expect({ undescribed: read.filter((name) => !described.includes(name)).sort() }).toEqual({
      undescribed: [],
    });
    expect({ stale: described.filter((name) => !read.includes(name)).sort() }).toEqual({ stale: [] });
  });

  it('describes every experiment config key, and no key the schema does not have', () => {
    const keys = experimentConfigKeys().map((key) => key.path);
    const described = Object.keys(EXPERIMENT_CONFIG_DESCRIPTIONS);
    expect({ undescribed: keys.filter((key) => !described.includes(key)) }).toEqual({ undescribed: [] });
    expect({ stale: described.filter((key) => !keys.includes(key)) }).toEqual({ stale: [] });
  });

  it('documents option defaults as the code sets them, whatever the environment of the machine', () => {
    const saved = process.env.PORT;
    process.env.PORT = '4321';
    try {
      const service = buildProgramForDocs().commands.find((command) => command.name() === 'service');
      expect(service?.options.find((option) => option.long === '--port')?.defaultValue).toBe(3000);
      expect(process.env.PORT).toBe('4321');
    } finally {
      if (saved === undefined) delete process.env.PORT;
      else process.env.PORT = saved;
    }
  });
});
