import { z } from 'zod';
import { stringify } from 'yaml';
import { engineOpponentSchema, experimentConfigSchema, textOpponentSchema } from '@recon/experiment';
import { EXPERIMENT_CONFIG_DESCRIPTIONS } from './experiment-config-descriptions';
import { ENVIRONMENT_VARIABLES, type EnvironmentVariable } from '@recon/config';
import { SCRIPT_VARIABLE_MEANINGS, SCRIPT_VARIABLES_DOCUMENTED_ELSEWHERE } from './environment-variables';
import { scanEnvironmentReads, scanScriptVariables } from './environment-scan';
import { code, escapeText, generatedNotice, table } from './markdown';

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  format?: string;
}

export interface ConfigKey {
  /** `policy(builtin).dModel`: the key's path with the union variant it belongs to, as the descriptions name it. */
  path: string;
  type: string;
  default: string;
  required: boolean;
}

function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

/**
 * A GTBench opponent is parsed by a transform (a name is checked as an engine, an object as an LLM or a
 * checkpoint) that JSON Schema cannot show; its two schemas stand in for it.
 */
function substitutes(): Record<string, JsonSchema> {
  const text = jsonSchemaOf(textOpponentSchema);
  return {
    'evaluation.gtbench.opponents[]': {
      anyOf: [jsonSchemaOf(engineOpponentSchema), ...(text.oneOf ?? text.anyOf ?? [])],
    },
  };
}

/** Defaults JSON Schema cannot show (behind a transform), read from a parse of a config with every section. */
function parsedDefaults(): unknown {
  return experimentConfigSchema.parse({
    name: 'defaults',
    datasets: { curriculum: {}, recon: { path: '.' } },
    policy: { kind: 'builtin' },
    sft: {},
    grpo: {},
    evaluation: { heldOut: {}, reconEval: {}, completeInformation: {}, gtbench: {} },
  });
}

function valueAt(value: unknown, path: string): unknown {
  if (/[([]/.test(path)) return undefined;
  return path
    .split('.')
    .reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], value);
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function flow(value: unknown): string {
  return typeof value === 'string'
    ? value
    : stringify(value, { collectionStyle: 'flow', lineWidth: 0 }).trim();
}

function typeOf(node: JsonSchema): string {
  const variants = node.oneOf ?? node.anyOf;
  if (variants) {
    const kinds = variants.filter((v) => v.properties?.kind?.const !== undefined);
    const others = variants.filter((v) => v.properties?.kind?.const === undefined).map(typeOf);
    if (kinds.length > 0)
      others.push(
        `object by \`kind\`: ${kinds.map((v) => code(String(v.properties?.kind?.const))).join(', ')}`,
      );
    return others.join(' or ');
  }
  if (node.const !== undefined) return code(flow(node.const));
  if (node.enum)
    return node.enum.length === 1
      ? code(flow(node.enum[0]))
      : `one of ${node.enum.map((v) => code(flow(v))).join(', ')}`;
  if (node.type === 'integer' || node.type === 'number') {
    const upper = node.maximum !== undefined && node.maximum !== MAX_SAFE ? node.maximum : undefined;
    if (node.minimum !== undefined && upper !== undefined) return `${node.type}, ${node.minimum} to ${upper}`;
    const bounds = [
      node.exclusiveMinimum !== undefined ? `> ${node.exclusiveMinimum}` : '',
      node.minimum !== undefined ? `≥ ${node.minimum}` : '',
      upper !== undefined ? `≤ ${upper}` : '',
      node.exclusiveMaximum !== undefined ? `< ${node.exclusiveMaximum}` : '',
    ].filter(Boolean);
    return [node.type, ...bounds].join(' ');
  }
  if (node.type === 'string') return node.format === 'uri' ? 'URL' : 'string';
  if (node.type === 'array') {
    if (node.prefixItems) return `[${node.prefixItems.map(typeOf).join(', ')}]`;
    // Items JSON Schema cannot show (a transform) are listed under `<key>[]`.
    const items = node.items && Object.keys(node.items).length > 0 ? typeOf(node.items) : 'items as below';
    return `${node.minItems ? 'non-empty ' : ''}list of ${items}`;
  }
  return node.type ?? 'any';
}

/** Every key of the experiment config, depth first, in the schema's order. */
export function experimentConfigKeys(): ConfigKey[] {
  const keys: ConfigKey[] = [];
  const replaced = substitutes();
  const defaults = parsedDefaults();
  const visit = (node: JsonSchema, path: string, required: boolean): void => {
    if (path) {
      const fallback =
        node.default === undefined && replaced[`${path}[]`] ? valueAt(defaults, path) : undefined;
      const value = node.default ?? fallback;
      keys.push({
        path,
        type: typeOf(node),
        default: value === undefined ? '' : code(flow(value)),
        required: required && value === undefined,
      });
    }
    for (const [name, child] of Object.entries(node.properties ?? {}))
      visit(child, path ? `${path}.${name}` : name, (node.required ?? []).includes(name));
    for (const variant of node.oneOf ?? node.anyOf ?? []) {
      const kind = variant.properties?.kind?.const;
      if (kind === undefined) continue;
      for (const [name, child] of Object.entries(variant.properties ?? {}))
        visit(child, `${path}(${String(kind)}).${name}`, (variant.required ?? []).includes(name));
    }
    if (node.type === 'array' && node.items) {
      const substitute = replaced[`${path}[]`];
      if (substitute) visit(substitute, `${path}[]`, false);
      else
        for (const [name, child] of Object.entries(node.items.properties ?? {}))
          visit(child, `${path}[].${name}`, (node.items.required ?? []).includes(name));
    }
  };
  visit(jsonSchemaOf(experimentConfigSchema), '', false);
  return keys;
}

/** `policy(builtin).dModel` -> `policy.dModel`; the variant is shown by the table or the meaning. */
function displayPath(path: string): string {
  return path.replace(/\([^)]*\)/g, '');
}

function variantOf(path: string): string | undefined {
  return /\(([^)]*)\)[^(]*$/.exec(path)?.[1];
}

function configTables(keys: ConfigKey[]): string {
  const groups = new Map<string, ConfigKey[]>();
  for (const key of keys) {
    const top = /^[^.([]+(\([^)]*\))?/.exec(key.path)?.[0] ?? key.path;
    groups.set(top, [...(groups.get(top) ?? []), key]);
  }
  const sections: string[] = [];
  for (const [top, members] of groups) {
    const variant = variantOf(top);
    const heading = variant ? `### ${displayPath(top)} (kind: ${variant})` : `### ${top}`;
    sections.push(
      heading,
      '',
      table(
        ['key', 'type', 'default', 'meaning'],
        members.map((key) => {
          const nested = key.path.slice(top.length);
          const nestedVariant = nested.includes('(') ? variantOf(nested) : undefined;
          const meaning = EXPERIMENT_CONFIG_DESCRIPTIONS[key.path] ?? '';
          return [
            code(displayPath(key.path)),
            key.type,
            key.required ? 'required' : key.default,
            escapeText(`${nestedVariant ? `(kind ${nestedVariant}) ` : ''}${meaning}`),
          ];
        }),
      ),
      '',
    );
  }
  return sections.join('\n');
}

/** The platform's variables by group, in the order libs/config declares them. */
export function environmentGroups(): Array<{
  title: string;
  variables: Array<EnvironmentVariable & { name: string }>;
}> {
  const groups = new Map<string, Array<EnvironmentVariable & { name: string }>>();
  for (const [name, variable] of Object.entries(ENVIRONMENT_VARIABLES as Record<string, EnvironmentVariable>))
    groups.set(variable.group, [...(groups.get(variable.group) ?? []), { name, ...variable }]);
  return [...groups].map(([title, variables]) => ({ title, variables }));
}

function environmentTables(root: string): string {
  const reads = scanEnvironmentReads(root);
  const readBy = (name: string) =>
    [...(reads.get(name) ?? [])]
      .sort()
      .map((pkg) => code(pkg))
      .join(', ');
  return environmentGroups()
    .map((group) =>
      [
        `### ${group.title}`,
        '',
        table(
          ['variable', 'default', 'meaning', 'read in'],
          group.variables.map((variable) => [
            code(variable.name),
            escapeText(variable.default),
            escapeText(variable.description),
            readBy(variable.name),
          ]),
        ),
        '',
      ].join('\n'),
    )
    .join('\n');
}

function scriptTable(root: string): string {
  const variables = scanScriptVariables(root).filter(
    (variable) => !SCRIPT_VARIABLES_DOCUMENTED_ELSEWHERE.includes(variable.name),
  );
  return table(
    ['variable', 'default', 'meaning', 'read by'],
    variables.map((variable) => [
      code(variable.name),
      variable.default === '' ? 'unset' : code(variable.default),
      escapeText(SCRIPT_VARIABLE_MEANINGS[variable.name] ?? ''),
      variable.scripts.map((script) => code(script)).join(', '),
    ]),
  );
}

/** docs/configuration.md: the experiment config keys from the zod schema, the environment from the code. */
export function renderConfigurationReference(root: string): string {
  return [
    generatedNotice(
      'the zod schema in libs/experiment/src/experiment-config.ts and the environment reads in libs/, services/, apps/ and scripts/',
    ),
    '',
    '# Configuration reference',
    '',
    '- [Experiment config](#experiment-config): the YAML file `recon run <config>` takes.',
    '- [Environment variables](#environment-variables): what every process reads at start-up.',
    '- [Script variables](#script-variables): the local Kafka broker and the container image build.',
    '',
    '## Experiment config',
    '',
    'An experiment is one YAML file (or a bundled preset by name: `recon run recon-mini` is',
    '[libs/experiment/presets/recon-mini.yaml](../libs/experiment/presets/recon-mini.yaml), commented). It is',
    'validated before anything is recorded: unknown keys are refused, and every error names the file, the line',
    'and the key. The validated config, defaults filled in, is recorded in `run.requested`, so a run is a',
    'function of it and its seed. `recon fork <run> --set key=value` changes keys of a recorded config by the',
    'same paths. Checks that go beyond the schema (heads dividing the width, files that must exist, rewards that',
    'must be served, stages that must fit the training) are listed in',
    '[getting-started.md](getting-started.md#checks-before-a-run-starts).',
    '',
    configTables(experimentConfigKeys()),
    '## Environment variables',
    '',
    'Every variable the code in libs/, services/ and apps/ reads, as libs/config declares it (`ENVIRONMENT_VARIABLES`,',
    'read with `readEnvironment`); a test compares this list with the reads in the code.',
    'Unset and empty mean the same for the Kafka variables; invalid values are refused at start-up naming the',
    "variable. Variables named by a config or an option instead (`policy.apiKeyEnv`, an LLM opponent's",
    '`apiKeyEnv`, `recon eval --api-key-env`) are read where the requests are made and never recorded.',
    '',
    environmentTables(root),
    '## Script variables',
    '',
    "Read by the shell scripts (`npm run kafka`, `npm run image`); the defaults are the scripts' own.",
    '',
    scriptTable(root),
    '',
  ].join('\n');
}
