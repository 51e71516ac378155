export { ByteBpeTokenizer, type ChatTurn } from './tokenizer';
export { trainTokenizer, type TrainTokenizerOptions } from './train';
export { MAX_VOCAB_SIZE } from './pair-key';
export {
  TOKENIZER_FORMAT,
  TokenizerFormatError,
  parseSerializedTokenizer,
  type SerializedTokenizer,
} from './serialize';
export {
  PHRASE_PRETOKENIZE_PATTERN,
  PRETOKENIZE_PATTERN,
  PRETOKENIZERS,
  pretokenize,
  type PretokenizerName,
} from './pretokenize';
export {
  BYTE_TOKENS,
  FIRST_MERGE_ID,
  SPECIAL_TOKENS,
  SPECIAL_TOKEN_IDS,
  type SpecialToken,
  type SpecialTokenIds,
} from './special-tokens';
