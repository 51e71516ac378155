import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJsonFile } from './checkpoint-dir';

export interface ChatMessage {
  role: string;
  content: string;
}

type TokenField = string | { content?: string } | null | undefined;

function tokenText(value: TokenField): string | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'string' ? value : value.content;
}

/**
 * A checkpoint's tokenizer (tokenizer.json through @huggingface/tokenizers) and chat template
 * (tokenizer_config.json's chat_template through @huggingface/jinja), as transformers applies them.
 */
export class HfTokenizer {
  private readonly template?: Template;
  readonly bosToken?: string;
  readonly eosToken?: string;

  private constructor(
    private readonly tokenizer: Tokenizer,
    private readonly tokenizerConfig: Record<string, unknown>,
    where: string,
    templateFile: string | undefined,
    /** The most UTF-16 units of input text one token can stand for (see longestTokenCharsOf). */
    readonly longestTokenChars: number,
  ) {
    this.bosToken = tokenText(tokenizerConfig.bos_token as TokenField);
    this.eosToken = tokenText(tokenizerConfig.eos_token as TokenField);
    const source =
      templateFile !== undefined
        ? fs.readFileSync(templateFile, 'utf8')
        : chatTemplateSource(tokenizerConfig.chat_template, where);
    if (source !== undefined) {
      try {
        this.template = new Template(source);
      } catch (error) {
        throw new Error(
          `${templateFile ?? where}: chat_template does not parse (${(error as Error).message})`,
        );
      }
    }
  }

  static load(dir: string): HfTokenizer {
    const tokenizerFile = path.join(dir, 'tokenizer.json');
    const configFile = path.join(dir, 'tokenizer_config.json');
    const json = readJsonFile(tokenizerFile);
    const config = readJsonFile(configFile);
    if (typeof config !== 'object' || config === null || Array.isArray(config))
      throw new Error(`${configFile}: not a JSON object`);
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(json as object, config);
    } catch (error) {
      throw new Error(`${tokenizerFile}: cannot build the tokenizer (${(error as Error).message})`);
    }
    // transformers >= 4.52 writes the template to chat_template.jinja, which then takes precedence.
    const templateFile = path.join(dir, 'chat_template.jinja');
    return new HfTokenizer(
      tokenizer,
      config as Record<string, unknown>,
      configFile,
      fs.existsSync(templateFile) ? templateFile : undefined,
      longestTokenCharsOf(json as TokenizerJson),
    );
  }

  /** Token ids of text; special tokens (BOS, ...) are added only when asked, as for a chat-templated prompt. */
  encode(text: string, addSpecialTokens = false): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  decode(ids: readonly number[], skipSpecialTokens = false): string {
    return this.tokenizer.decode([...ids], { skip_special_tokens: skipSpecialTokens });
  }

  /** The id of a token string (a special token such as <|im_end|>), if the vocabulary has it. */
  tokenId(token: string): number | undefined {
    const ids = this.tokenizer.encode(token, { add_special_tokens: false }).ids;
    return ids.length === 1 ? ids[0] : undefined;
  }

  hasChatTemplate(): boolean {
    return this.template !== undefined;
  }

  /** The prompt text for messages, as tokenizer.apply_chat_template(messages, tokenize=False) renders it. */
  applyChatTemplate(messages: readonly ChatMessage[], addGenerationPrompt = true): string {
    if (!this.template) throw new Error('tokenizer_config.json has no chat_template');
    const specials: Record<string, string | undefined> = {};
    for (const key of ['bos_token', 'eos_token', 'pad_token', 'unk_token'])
      specials[key] = tokenText(this.tokenizerConfig[key] as TokenField);
    return this.template.render({
      ...specials,
      messages,
      // @huggingface/jinja defines raise_exception itself (it throws with the template's message).
      add_generation_prompt: addGenerationPrompt,
    });
  }
}

interface TokenizerJson {
  added_tokens?: { content?: unknown }[];
  normalizer?: unknown;
  model?: { vocab?: unknown };
}

/**
 * A bound on the input characters (UTF-16 units) one token covers: its longest vocabulary string (a
 * byte-level BPE string has one character per byte, a SentencePiece piece one per character, a byte-fallback
 * piece <0xNN> six for one byte), times 4 when a normalizer runs first (NFC composes at most four code points
 * into one; Llama and Qwen tokenizers normalise with NFC or not at all).
 */
function longestTokenCharsOf(json: TokenizerJson): number {
  const vocab = json.model?.vocab;
  const strings = [
    ...(Array.isArray(vocab)
      ? vocab.map((entry) => (Array.isArray(entry) ? entry[0] : entry))
      : typeof vocab === 'object' && vocab !== null
        ? Object.keys(vocab)
        : []),
    ...(json.added_tokens ?? []).map((t) => t.content),
  ];
  let longest = 1;
  for (const s of strings) if (typeof s === 'string') longest = Math.max(longest, s.length);
  return json.normalizer ? 4 * longest : longest;
}

function chatTemplateSource(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  // A list of named templates: the default one is what apply_chat_template uses.
  if (Array.isArray(value)) {
    const named = value.find((t) => (t as { name?: string })?.name === 'default') as { template?: unknown };
    if (typeof named?.template === 'string') return named.template;
  }
  throw new Error(`${where}: chat_template is neither a string nor a list with a "default" template`);
}
