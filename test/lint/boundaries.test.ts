import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';

/**
 * The dependency rules of eslint.boundaries.js, as `npm run lint` applies them: each forbidden import is
 * linted as if it were in the named file, and must be refused by no-restricted-imports; each allowed one
 * must pass.
 */
const ROOT = join(__dirname, '../..');

// The config is passed as an object: jest's module sandbox cannot run the dynamic import ESLint loads it with.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const config = require(join(ROOT, 'eslint.config.js')) as ESLint.Options['overrideConfig'];
const eslint = new ESLint({ cwd: ROOT, overrideConfigFile: true, overrideConfig: config });

async function boundaryErrors(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: join(ROOT, file) });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('dependency rules in npm run lint', () => {
  it.each([
    ['a domain lib importing Nest', 'libs/econ/src/probe.ts', "import { Injectable } from '@nestjs/common';"],
    ['a domain lib importing TypeORM', 'libs/games/src/probe.ts', "import { DataSource } from 'typeorm';"],
    ['a domain lib importing pg', 'libs/policy/src/model/probe.ts', "import type { Pool } from 'pg';"],
    ['a domain lib importing Kafka', 'libs/contracts/src/probe.ts', "export { Kafka } from 'kafkajs';"],
    [
      'a domain lib importing the event log',
      'libs/random/src/probe.ts',
      "import { sha256Hex } from '@recon/eventlog';",
    ],
    [
      'a domain lib importing persistence',
      'libs/econ/src/probe.ts',
      "import type { Platform } from '@recon/persistence';",
    ],
    [
      'a lib importing a service',
      'libs/transport/src/probe.ts',
      "import { TrainingModule } from '@recon/training';",
    ],
    [
      'a lib reaching into a service',
      'libs/persistence/src/probe.ts',
      "import { x } from '../../../services/data/src/cli';",
    ],
    [
      'a service importing another',
      'services/training/src/probe.ts',
      "import { RewardModule } from '@recon/reward';",
    ],
    [
      'a service reaching into another',
      'services/training/src/probe.ts',
      "import { RewardModule } from '../../reward/src/reward.module';",
    ],
    [
      'the gateway importing a service',
      'services/api/src/http/probe.ts',
      "import { DataModule } from '@recon/data';",
    ],
    [
      'a service importing the CLI app',
      'services/api/src/explorer/probe.ts',
      "import { writeRunReport } from '../../../../apps/cli/src/report/write-run-report';",
    ],
    [
      'a lib importing the CLI app',
      'libs/run-report/src/probe.ts',
      "import { buildProgram } from '../../../apps/cli/src/main';",
    ],
    [
      'the CLI reaching into a service',
      'apps/cli/src/run/probe.ts',
      "import { DataModule } from '../../../../services/data/src/data.module';",
    ],
    [
      'the CLI reaching into the gateway',
      'apps/cli/src/commands/probe.ts',
      "import { ApiModule } from '../../../../services/api/src/http/api.module';",
    ],
    [
      'a lib reaching into another lib',
      'libs/experiment/src/probe.ts',
      "import { x } from '../../games/src/lobby';",
    ],
  ])('refuses %s', async (_case, file, source) => {
    expect(await boundaryErrors(file, source)).toHaveLength(1);
  });

  it.each([
    [
      'a domain lib importing a domain lib',
      'libs/econ/src/probe.ts',
      "import { deriveSeed } from '@recon/games';",
    ],
    ['a domain lib importing zod', 'libs/contracts/src/probe.ts', "import { z } from 'zod';"],
    ['an infrastructure lib importing pg', 'libs/eventlog/src/probe.ts', "import { Pool } from 'pg';"],
    [
      'a service importing libs',
      'services/training/src/probe.ts',
      "import { openPlatform } from '@recon/persistence';",
    ],
    [
      'the embedded deployment importing a service',
      'apps/cli/src/run/probe.ts',
      "import { DataModule } from '@recon/data';",
    ],
    [
      'the CLI importing a service',
      'apps/cli/src/commands/probe.ts',
      "import { RewardModule } from '@recon/reward';",
    ],
    [
      'the CLI importing the gateway by its entry',
      'apps/cli/src/commands/probe.ts',
      "import { ApiModule } from '@recon/api';",
    ],
    [
      'the gateway importing a shared lib',
      'services/api/src/explorer/probe.ts',
      "import { buildRunView } from '@recon/run-report';",
    ],
  ])('allows %s', async (_case, file, source) => {
    expect(await boundaryErrors(file, source)).toEqual([]);
  });

  it('fails on a forbidden import in a file of the tree, as npm run lint finds it', async () => {
    const probe = join(ROOT, 'libs/econ/src/boundary-probe.lint-test.ts');
    writeFileSync(
      probe,
      "import { Injectable } from '@nestjs/common';\n\nexport const probe = Injectable;\n",
    );
    try {
      const [result] = await eslint.lintFiles([probe]);
      expect(result.errorCount).toBe(1);
      expect(result.messages[0].ruleId).toBe('no-restricted-imports');
      expect(result.messages[0].message).toContain('domain libs import no framework');
    } finally {
      rmSync(probe, { force: true });
    }
  });
});
