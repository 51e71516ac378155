import { engineOpponentSchema, gtbenchOpponentsSchema, type GtbenchOpponentSetting } from '@recon/experiment';
import { EvalUsageError } from './eval-options';

/** One `--opponents` entry as typed, and the `evaluation.gtbench.opponents` setting it stands for. */
export interface OpponentSpec {
  spec: string;
  setting: GtbenchOpponentSetting;
}

/** The forms an entry may take, for the messages that refuse one. */
export const OPPONENT_SPEC_FORMS = `${engineOpponentSchema.options.join(', ')}, openai:<base-url>#<model>, checkpoint:<run>/<stage>`;

/** Settings whose values stay text; the others are numbers (the schema refuses a number where text belongs). */
const TEXT_SETTINGS = new Set(['name', 'apiKeyEnv']);

function refuse(spec: string, reason: string): never {
  throw new EvalUsageError(`--opponents '${spec}': ${reason}`);
}

/**
 * The setting of an entry: its own keys, then `key=value` pairs (after the spec's `#`) as further keys, a
 * key given twice refused. Values are numbers where they read as one, except for the text settings.
 */
function withSettings(spec: string, own: Record<string, unknown>, pairs: string[]): Record<string, unknown> {
  const keys = new Set(Object.keys(own));
  const entries = pairs.map((pair): [string, unknown] => {
    const match = /^([^=]+)=(.*)$/.exec(pair);
    if (!match) refuse(spec, `'${pair}' is not key=value`);
    const [, key, text] = match;
    if (keys.has(key)) refuse(spec, `'${key}' is given twice`);
    keys.add(key);
    const number = Number(text);
    return [key, TEXT_SETTINGS.has(key) || text.trim() === '' || !Number.isFinite(number) ? text : number];
  });
  return { ...own, ...Object.fromEntries(entries) };
}

function urlOf(spec: string, text: string): URL {
  try {
    return new URL(text);
  } catch {
    return refuse(spec, `'${text}' is not a URL`);
  }
}

/** `openai:<base-url>#<model>[&key=value…]`: an OpenAI-compatible model, every request recorded. */
function openAiSetting(spec: string, rest: string): Record<string, unknown> {
  const hash = rest.indexOf('#');
  const [model, ...pairs] = hash < 0 ? [''] : rest.slice(hash + 1).split('&');
  const baseUrl = hash < 0 ? rest : rest.slice(0, hash);
  if (model === '' || model.includes('='))
    refuse(spec, 'name the model after the base URL: openai:<base-url>#<model>');
  const url = urlOf(spec, baseUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    refuse(spec, `the base URL must be http or https, not ${url.protocol}`);
  return withSettings(spec, { kind: 'openai', baseUrl, model }, pairs);
}

/** `checkpoint:[<run>/]<stage>[#key=value&…]`: a built-in checkpoint, of another run or of this one. */
function checkpointSetting(spec: string, rest: string): Record<string, unknown> {
  const hash = rest.indexOf('#');
  const reference = hash < 0 ? rest : rest.slice(0, hash);
  const slash = reference.lastIndexOf('/');
  const run = slash < 0 ? undefined : reference.slice(0, slash);
  if (run === '') refuse(spec, 'name the run before the stage: checkpoint:<run>/<stage>');
  return withSettings(
    spec,
    { kind: 'checkpoint', ...(run === undefined ? {} : { run }), stage: reference.slice(slash + 1) },
    hash < 0 ? [] : rest.slice(hash + 1).split('&'),
  );
}

function settingOf(spec: string): unknown {
  const colon = spec.indexOf(':');
  const [kind, rest] = colon < 0 ? [spec, ''] : [spec.slice(0, colon), spec.slice(colon + 1)];
  if (kind === 'openai') return openAiSetting(spec, rest);
  if (kind === 'checkpoint') return checkpointSetting(spec, rest);
  if (colon < 0 && (engineOpponentSchema.options as readonly string[]).includes(spec)) return spec;
  return refuse(spec, `not an opponent (known forms: ${OPPONENT_SPEC_FORMS})`);
}

/**
 * `--opponents a,b,…`: GTBench opponents written on one line, each the `evaluation.gtbench.opponents` entry of
 * a config and checked by the same schema, so the command line and a config accept the same opponents:
 *
 * - a built-in engine by name: `random`, `mcts`, `mcts-fair`, `tit-for-tat`;
 * - `openai:<base-url>#<model>`, an OpenAI-compatible model (`openai:http://127.0.0.1:8000/v1#tiny`);
 * - `checkpoint:<run>/<stage>`, a built-in checkpoint of a run of this home (`checkpoint:r1/grpo`);
 *
 * and any further settings of the LLM or checkpoint opponent as `&key=value` after the model, or
 * `#key=value&…` after the checkpoint (`openai:https://api.openai.com/v1#gpt-4o-mini&apiKeyEnv=OPENAI_API_KEY`).
 * A bad entry throws an EvalUsageError naming it and what is wrong.
 */
export function parseOpponentSpecs(value: string): OpponentSpec[] {
  const specs = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (specs.length === 0)
    throw new EvalUsageError(`--opponents: name at least one of ${OPPONENT_SPEC_FORMS}`);
  const parsed = gtbenchOpponentsSchema.safeParse(specs.map(settingOf));
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    const [index, ...key] = issue.path;
    const spec = specs[typeof index === 'number' ? index : 0];
    refuse(spec, key.length > 0 ? `${key.map(String).join('.')}: ${issue.message}` : issue.message);
  }
  return parsed.data.map((setting, i) => ({ spec: specs[i], setting }));
}
