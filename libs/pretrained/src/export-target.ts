import * as fs from 'node:fs';
import * as path from 'node:path';
import { INDEX_FILE } from './checkpoint-dir';

/** The directory an export would write into holds files already, and overwriting was not asked for. */
export class ExportTargetNotEmptyError extends Error {
  constructor(readonly dir: string) {
    super(`${dir}: directory is not empty; refusing to write over it`);
    this.name = 'ExportTargetNotEmptyError';
  }
}

/**
 * Files a loader reads weights from (or takes the directory for a PEFT adapter by): not copied from a source,
 * and removed from an overwritten target, where one left from an earlier export would shadow the new weights.
 */
export function isWeightFile(name: string): boolean {
  return (
    name === INDEX_FILE ||
    name === 'adapter_config.json' ||
    /\.(safetensors|bin|pt|pth|ckpt|gguf|h5|msgpack|onnx)$/.test(name) ||
    name === 'pytorch_model.bin.index.json'
  );
}

/**
 * Throws unless `dir` may receive a checkpoint exported from `source`: it is not `source` itself (or inside
 * it), not a file, and empty or missing unless `overwrite`.
 */
export function checkExportTarget(dir: string, source: string, overwrite: boolean): void {
  const target = path.resolve(dir);
  const real = (p: string) => (fs.existsSync(p) ? fs.realpathSync(p) : path.resolve(p));
  const relative = path.relative(real(source), real(target));
  if (relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative)))
    throw new Error(`${dir}: is the source checkpoint directory ${source} or inside it`);
  if (!fs.existsSync(target)) return;
  if (!fs.statSync(target).isDirectory()) throw new Error(`${dir}: exists and is not a directory`);
  if (!overwrite && fs.readdirSync(target).length > 0) throw new ExportTargetNotEmptyError(dir);
}

/**
 * Makes `dir` ready to receive a checkpoint (checkExportTarget, then created when missing); when it holds
 * files and `overwrite` is set, its weight files are removed (the others are overwritten by name).
 */
export function prepareExportTarget(dir: string, source: string, overwrite: boolean): void {
  checkExportTarget(dir, source, overwrite);
  fs.mkdirSync(dir, { recursive: true });
  for (const name of fs.readdirSync(dir))
    if (isWeightFile(name) && fs.statSync(path.join(dir, name)).isFile()) fs.rmSync(path.join(dir, name));
}
