import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const INDEX_FILE = 'model.safetensors.index.json';
export const SINGLE_FILE = 'model.safetensors';

/** Reads and parses a JSON file of the checkpoint, naming it in every error. */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${file}: file not found` : `${file}: cannot read (${code})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`);
  }
}

/**
 * Which safetensors file holds each tensor: from model.safetensors.index.json's weight_map when the
 * checkpoint is sharded, else every tensor of model.safetensors.
 */
export function weightFiles(dir: string): { files: string[]; fileOf?: ReadonlyMap<string, string> } {
  const index = path.join(dir, INDEX_FILE);
  if (fs.existsSync(index)) {
    const json = readJsonFile(index) as { weight_map?: unknown };
    const map = json?.weight_map;
    if (typeof map !== 'object' || map === null || Array.isArray(map))
      throw new Error(`${index}: has no weight_map object`);
    const fileOf = new Map<string, string>();
    for (const [name, file] of Object.entries(map as Record<string, unknown>)) {
      if (typeof file !== 'string' || file.includes('/') || file.includes('\\'))
        throw new Error(`${index}: weight_map.${name} is not a file name in the checkpoint directory`);
      fileOf.set(name, path.join(dir, file));
    }
    const files = [...new Set(fileOf.values())];
    for (const file of files)
      if (!fs.existsSync(file)) throw new Error(`${file}: file not found (named by ${index})`);
    return { files, fileOf };
  }
  const single = path.join(dir, SINGLE_FILE);
  if (!fs.existsSync(single))
    throw new Error(`${dir}: no ${SINGLE_FILE} or ${INDEX_FILE} (only safetensors checkpoints load)`);
  return { files: [single] };
}

export interface CheckpointContent {
  /** sha256 over every file's relative path and content, in path order. */
  sha256: string;
  files: { path: string; bytes: number; sha256: string }[];
}

function listFiles(dir: string, prefix = ''): string[] {
  return fs
    .readdirSync(path.join(dir, prefix), { withFileTypes: true })
    .flatMap((entry) => {
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) return listFiles(dir, relative);
      return entry.isFile() ? [relative] : [];
    })
    .sort();
}

function hashFile(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(1 << 22);
    for (let n; (n = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0;)
      hash.update(buffer.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * The content hash of a checkpoint directory: every file (weights, config, tokenizer, anything else),
 * streamed, so a run records exactly which weights it used and can refuse different ones later.
 */
export function checkpointContent(dir: string): CheckpointContent {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
    throw new Error(`${dir}: checkpoint directory not found`);
  const files = listFiles(dir).map((relative) => {
    const file = path.join(dir, relative);
    return { path: relative, bytes: fs.statSync(file).size, sha256: hashFile(file) };
  });
  if (files.length === 0) throw new Error(`${dir}: checkpoint directory is empty`);
  const total = createHash('sha256');
  for (const f of files) total.update(`${f.path}\0${f.bytes}\0${f.sha256}\n`);
  return { sha256: total.digest('hex'), files };
}

/** Throws unless the directory's content hash is the recorded one, naming the files that differ. */
export function assertSameCheckpoint(dir: string, recorded: CheckpointContent): void {
  const now = checkpointContent(dir);
  if (now.sha256 === recorded.sha256) return;
  const before = new Map(recorded.files.map((f) => [f.path, f.sha256]));
  const after = new Map(now.files.map((f) => [f.path, f.sha256]));
  const changed = [...new Set([...before.keys(), ...after.keys()])]
    .filter((p) => before.get(p) !== after.get(p))
    .map((p) => (!before.has(p) ? `${p} (added)` : !after.has(p) ? `${p} (missing)` : `${p} (changed)`));
  throw new Error(
    `${dir}: checkpoint differs from the one the run recorded (sha256 ${recorded.sha256.slice(0, 12)}…, now ${now.sha256.slice(0, 12)}…): ${changed.join(', ')}`,
  );
}
