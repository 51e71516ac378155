import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isSeq, parseDocument, type Node } from 'yaml';
import { experimentConfigSchema, type ExperimentConfig } from './experiment-config';

/** A config that cannot be used; the message names the file, the line and the key. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly key: string,
    readonly reason: string,
  ) {
    super(`${file}${line === null ? '' : `:${line}`}: ${key ? `'${key}': ` : ''}${reason}`);
    this.name = 'ConfigError';
  }
}

function nodeAt(root: Node | null, path: ReadonlyArray<PropertyKey>): Node | null {
  let node: Node | null = root;
  let deepest: Node | null = root;
  for (const segment of path) {
    if (isMap(node)) node = (node.get(String(segment), true) as Node | undefined) ?? null;
    else if (isSeq(node)) node = (node.get(Number(segment), true) as Node | undefined) ?? null;
    else node = null;
    if (!node) break;
    deepest = node;
  }
  return deepest;
}

/** Parses and validates an experiment config (YAML or JSON text), naming the key and line of any problem. */
export function parseExperimentConfig(text: string, file = '<config>'): ExperimentConfig {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const lineOf = (offset: number | undefined) =>
    offset === undefined ? null : lineCounter.linePos(offset).line;
  if (document.errors.length > 0) {
    const error = document.errors[0];
    throw new ConfigError(file, lineOf(error.pos[0]), '', `invalid YAML: ${error.message.split('\n')[0]}`);
  }
  const result = experimentConfigSchema.safeParse(document.toJS());
  if (!result.success) {
    const issue = result.error.issues[0];
    const node = nodeAt(document.contents as Node | null, issue.path);
    const key = issue.path.map(String).join('.');
    const reason =
      issue.code === 'unrecognized_keys'
        ? `unknown key(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}`
        : issue.message;
    throw new ConfigError(file, lineOf(node?.range?.[0]) ?? 1, key, reason);
  }
  return result.data;
}

export function loadExperimentConfig(file: string): ExperimentConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, null, '', `cannot read the file (${(error as NodeJS.ErrnoException).code})`);
  }
  return parseExperimentConfig(text, file);
}
