import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { canonicalJson, sha256Hex } from '@recon/canonical';
import { goldShapeOf, type GoldShape } from '../grading/answer-shape';
import { balancedBoxedAll, afterLastThink } from '../grading/extract';
import { parsePythonLiteral, PythonLiteralError } from './python-literal';

export type DatasetFormat = 'recon-csv' | 'recon-cot-csv' | 'jsonl';

const message = z.strictObject({ role: z.enum(['system', 'user', 'assistant']), content: z.string().min(1) });
const messages = z.array(message).min(1);
export type ChatMessage = z.infer<typeof message>;

/** A problem with a gold answer (train and eval splits). */
export interface ProblemRow {
  index: number;
  messages: ChatMessage[];
  gold: string;
  goldShape: GoldShape;
}

/** A distilled trace (Recon-CoT): prompt text, teacher response, and the answer its box holds. */
export interface TraceRow {
  index: number;
  prompt: string;
  response: string;
  gold: string;
}

export type DatasetRow = ProblemRow | TraceRow;

export interface RejectedRow {
  file: string;
  line: number;
  reason: string;
}

export interface ImportedDataset<R extends DatasetRow = DatasetRow> {
  file: string;
  format: DatasetFormat;
  rows: R[];
  rejected: RejectedRow[];
  /** sha256 of the canonical JSON of {format, rows}: the same content always gives the same version. */
  versionHash: string;
  /** The canonical bytes the version hash is taken over (what the blob store keeps). */
  canonical: string;
}

export class DatasetImportError extends Error {
  constructor(
    readonly file: string,
    readonly rejected: RejectedRow[],
  ) {
    super(
      `${file}: ${rejected.length} invalid row(s), nothing imported (use --skip-invalid to import the rest):\n` +
        rejected
          .slice(0, 10)
          .map((r) => `  line ${r.line}: ${r.reason}`)
          .join('\n') +
        (rejected.length > 10 ? `\n  … and ${rejected.length - 10} more` : ''),
    );
    this.name = 'DatasetImportError';
  }
}

function problemFrom(promptLiteral: unknown, answer: unknown, index: number): ProblemRow | string {
  if (typeof promptLiteral === 'string') {
    let parsed: unknown;
    try {
      parsed = parsePythonLiteral(promptLiteral);
    } catch (error) {
      return `prompt is not a Python literal list of messages: ${(error as PythonLiteralError).message}`;
    }
    promptLiteral = parsed;
  }
  const checked = messages.safeParse(promptLiteral);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    return `prompt: message ${issue.path.join('.') || ''} ${issue.message}`.replace(/\s+/g, ' ');
  }
  if (checked.data[checked.data.length - 1].role !== 'user') return 'prompt: the last message must be from the user';
  if (typeof answer !== 'string' || answer.trim() === '') return 'answer is empty';
  const shape = goldShapeOf(answer);
  if (shape === null) return `answer '${answer.slice(0, 60)}' has none of the known gold shapes (Option N, Yes/No, ordering, pure-Nash list)`;
  return { index, messages: checked.data, gold: answer.trim(), goldShape: shape };
}

function traceFrom(prompt: unknown, response: unknown, index: number): TraceRow | string {
  if (typeof prompt !== 'string' || prompt.trim() === '') return 'prompt is empty';
  if (typeof response !== 'string' || response.trim() === '') return 'response is empty';
  if (!response.includes('</think>')) return 'response has no </think>';
  const boxes = balancedBoxedAll(afterLastThink(response));
  if (boxes.length === 0) return 'response has no \\boxed{} answer after </think>';
  return { index, prompt, response, gold: boxes[boxes.length - 1].trim() };
}

interface RawRecord {
  line: number;
  fields: Record<string, unknown>;
}

function csvRecords(text: string, file: string, columns: string[]): RawRecord[] {
  let records: Array<{ record: Record<string, string>; info: { lines: number } }>;
  try {
    records = parse(text, { columns: true, info: true, skip_empty_lines: true });
  } catch (error) {
    // A malformed CSV (unbalanced quotes, a row with the wrong number of fields) cannot be read past that point.
    const { lines, message } = error as { lines?: number; message: string };
    throw new DatasetImportError(file, [{ file, line: lines ?? 1, reason: `malformed CSV: ${message}` }]);
  }
  const header = Object.keys(records[0]?.record ?? {});
  const missing = columns.filter((c) => !header.includes(c));
  if (records.length > 0 && missing.length > 0) {
    throw new DatasetImportError(file, [{ file, line: 1, reason: `missing column(s) ${missing.join(', ')}; found ${header.join(', ')}` }]);
  }
  // csv-parse reports the line a record ends on; a record starts on the line after the previous one ended.
  let previousEnd = 1;
  return records.map(({ record, info }) => {
    const entry = { line: previousEnd + 1, fields: record };
    previousEnd = info.lines;
    return entry;
  });
}

function jsonlRecords(text: string): Array<RawRecord | RejectedRow> {
  return text.split('\n').flatMap((line, i): Array<RawRecord | RejectedRow> => {
    if (line.trim() === '') return [];
    try {
      const value = JSON.parse(line) as unknown;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return [{ file: '', line: i + 1, reason: 'a JSONL line must be an object' }];
      }
      return [{ line: i + 1, fields: value as Record<string, unknown> }];
    } catch (error) {
      return [{ file: '', line: i + 1, reason: `invalid JSON: ${(error as Error).message}` }];
    }
  });
}

/**
 * Imports a Recon dataset file: train/eval CSV (`prompt` a Python-literal list of chat messages, `answer`),
 * CoT CSV (`prompt`, `response`) or JSONL (`{"messages": [...], "answer": ...}` or `{"prompt", "response"}`).
 * Every row is validated; with any invalid row nothing is imported unless `skipInvalid` is set. The
 * version hash covers the rows' content, not the file's bytes or format.
 */
export function importDataset(
  file: string,
  options: { format?: DatasetFormat; skipInvalid?: boolean; text?: string } = {},
): ImportedDataset {
  const text = options.text ?? readFileSync(file, 'utf8');
  const format: DatasetFormat =
    options.format ?? (file.endsWith('.jsonl') ? 'jsonl' : /cot/i.test(basename(file)) ? 'recon-cot-csv' : 'recon-csv');
  const rejected: RejectedRow[] = [];
  const rows: DatasetRow[] = [];
  const raw: Array<RawRecord | RejectedRow> =
    format === 'jsonl' ? jsonlRecords(text) : csvRecords(text, file, format === 'recon-cot-csv' ? ['prompt', 'response'] : ['prompt', 'answer']);
  for (const record of raw) {
    if ('reason' in record) {
      rejected.push({ ...record, file });
      continue;
    }
    const { fields } = record;
    const isTrace = format === 'recon-cot-csv' || (format === 'jsonl' && 'response' in fields);
    const row = isTrace
      ? traceFrom(fields.prompt, fields.response, rows.length)
      : problemFrom(fields.messages ?? fields.prompt, fields.answer, rows.length);
    if (typeof row === 'string') rejected.push({ file, line: record.line, reason: row });
    else rows.push(row);
  }
  if (rejected.length > 0 && !options.skipInvalid) throw new DatasetImportError(file, rejected);
  // An empty file (or a header alone, or nothing but skipped rows) is not a dataset: nothing to register.
  if (rows.length === 0) {
    throw new DatasetImportError(file, rejected.length > 0 ? rejected : [{ file, line: 1, reason: 'the file holds no data rows' }]);
  }
  // The version is a function of the content only: the same rows from CSV or JSONL are the same version.
  const kind = format === 'recon-cot-csv' || (rows.length > 0 && 'response' in rows[0]) ? 'traces' : 'problems';
  const canonical = canonicalJson({ kind, rows });
  return { file, format, rows, rejected, versionHash: sha256Hex(canonical), canonical };
}
