import * as fs from 'node:fs';

/*
 * The safetensors format: an 8-byte little-endian header length N, N bytes of JSON naming each tensor's
 * dtype, shape and [begin, end) byte offsets into the data that follows (plus an optional __metadata__
 * map of strings), then the raw little-endian data. Tensors are read one at a time at their offsets, so
 * a multi-gigabyte shard never sits in one buffer.
 */

/** Dtypes we load; bf16 and f16 are widened to float32 on load (the policy computes in float32). */
const DTYPE_BYTES = { F32: 4, F16: 2, BF16: 2 } as const;
export type LoadableDtype = keyof typeof DTYPE_BYTES;

export interface TensorEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export interface SafetensorsHeader {
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
  /** Byte offset of the data section in the file. */
  dataStart: number;
}

export interface FloatTensor {
  shape: number[];
  values: Float32Array;
}

/** Header lengths above this are not a safetensors file (the reference implementation caps at 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

function readExactly(fd: number, length: number, position: number, file: string): Buffer {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buffer, done, length - done, position + done);
    if (n === 0)
      throw new Error(`${file}: file ends at byte ${position + done}, expected ${position + length}`);
    done += n;
  }
  return buffer;
}

function parseHeader(fd: number, file: string): SafetensorsHeader {
  const size = fs.fstatSync(fd).size;
  if (size < 8)
    throw new Error(`${file}: not a safetensors file (${size} bytes, shorter than its 8-byte header length)`);
  const length = Number(readExactly(fd, 8, 0, file).readBigUInt64LE(0));
  if (length > MAX_HEADER_BYTES || 8 + length > size)
    throw new Error(
      `${file}: not a safetensors file (header length ${length} does not fit in ${size} bytes)`,
    );
  let json: unknown;
  try {
    json = JSON.parse(readExactly(fd, length, 8, file).toString('utf8'));
  } catch (error) {
    throw new Error(`${file}: safetensors header is not JSON (${(error as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new Error(`${file}: safetensors header is not a JSON object`);
  const dataStart = 8 + length;
  const tensors = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (value ?? {}) as Record<string, string>;
      continue;
    }
    const entry = value as Partial<TensorEntry> | null;
    const valid =
      entry !== null &&
      typeof entry === 'object' &&
      typeof entry.dtype === 'string' &&
      Array.isArray(entry.shape) &&
      entry.shape.every((d) => Number.isInteger(d) && d >= 0) &&
      Array.isArray(entry.data_offsets) &&
      entry.data_offsets.length === 2 &&
      entry.data_offsets.every((o) => Number.isInteger(o) && o >= 0);
    if (!valid) throw new Error(`${file}: tensor ${name} has a malformed header entry`);
    const [begin, end] = entry.data_offsets!;
    if (begin > end || dataStart + end > size)
      throw new Error(
        `${file}: tensor ${name} data [${begin}, ${end}) lies outside the file's ${size - dataStart} data bytes`,
      );
    tensors.set(name, entry as TensorEntry);
  }
  return { tensors, metadata, dataStart };
}

export function readSafetensorsHeader(file: string): SafetensorsHeader {
  const fd = openForReading(file);
  try {
    return parseHeader(fd, file);
  } finally {
    fs.closeSync(fd);
  }
}

function openForReading(file: string): number {
  try {
    return fs.openSync(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${file}: file not found` : `${file}: cannot open (${code})`);
  }
}

/** IEEE half precision to float32 (subnormals, infinities and NaN included). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

function toFloat32(bytes: Buffer, dtype: LoadableDtype, count: number): Float32Array {
  const out = new Float32Array(count);
  if (dtype === 'F32') {
    new Uint8Array(out.buffer).set(bytes);
  } else if (dtype === 'BF16') {
    // bf16 is the top half of a float32.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = bytes.readUInt16LE(2 * i) << 16;
  } else {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(bytes.readUInt16LE(2 * i));
  }
  return out;
}

function isLoadable(dtype: string): dtype is LoadableDtype {
  return Object.prototype.hasOwnProperty.call(DTYPE_BYTES, dtype);
}

/**
 * Reads the named tensors (all when `names` is absent) of one file as float32. Refuses dtypes other than
 * F32, F16 and BF16, and entries whose byte length does not match their shape.
 */
export function readSafetensors(file: string, names?: Iterable<string>): Map<string, FloatTensor> {
  const fd = openForReading(file);
  try {
    const header = parseHeader(fd, file);
    const wanted = names ? [...names] : [...header.tensors.keys()];
    const out = new Map<string, FloatTensor>();
    for (const name of wanted) {
      const entry = header.tensors.get(name);
      if (!entry) throw new Error(`${file}: has no tensor named ${name}`);
      if (!isLoadable(entry.dtype))
        throw new Error(
          `${file}: tensor ${name} has dtype ${entry.dtype}; only F32, F16 and BF16 load (F16/BF16 are converted to float32)`,
        );
      const count = entry.shape.reduce((a, b) => a * b, 1);
      const [begin, end] = entry.data_offsets;
      if (end - begin !== count * DTYPE_BYTES[entry.dtype])
        throw new Error(
          `${file}: tensor ${name} holds ${end - begin} bytes, but ${entry.dtype}[${entry.shape}] needs ${count * DTYPE_BYTES[entry.dtype]}`,
        );
      const bytes = readExactly(fd, end - begin, header.dataStart + begin, file);
      out.set(name, { shape: entry.shape, values: toFloat32(bytes, entry.dtype, count) });
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads the named tensors of one file as stored (dtype, shape, raw little-endian bytes), whatever their
 * dtype: what a tensor copied unchanged into another checkpoint needs.
 */
export function readTensorBytes(
  file: string,
  names: Iterable<string>,
): Map<string, { dtype: string; shape: number[]; bytes: Buffer }> {
  const fd = openForReading(file);
  try {
    const header = parseHeader(fd, file);
    const out = new Map<string, { dtype: string; shape: number[]; bytes: Buffer }>();
    for (const name of names) {
      const entry = header.tensors.get(name);
      if (!entry) throw new Error(`${file}: has no tensor named ${name}`);
      const [begin, end] = entry.data_offsets;
      out.set(name, {
        dtype: entry.dtype,
        shape: entry.shape,
        bytes: readExactly(fd, end - begin, header.dataStart + begin, file),
      });
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

/** One tensor of a file to write; its bytes are asked for when it is written, one tensor at a time. */
export interface TensorToWrite {
  dtype: string;
  shape: number[];
  byteLength: number;
  bytes(): Uint8Array;
}

/**
 * Writes a safetensors file (names sorted; header padded with spaces to 8 bytes, as the reference writer
 * does), streaming each tensor's bytes so a multi-gigabyte shard never sits in one buffer. `metadata` goes
 * under __metadata__; PEFT and transformers expect format: pt.
 */
export function writeSafetensorsFile(
  file: string,
  tensors: ReadonlyMap<string, TensorToWrite>,
  metadata: Record<string, string> = { format: 'pt' },
): void {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const name of names) {
    const { dtype, shape, byteLength } = tensors.get(name)!;
    header[name] = { dtype, shape, data_offsets: [offset, offset + byteLength] };
    offset += byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, length);
    fs.writeSync(fd, Buffer.from(json, 'utf8'));
    for (const name of names) {
      const tensor = tensors.get(name)!;
      const bytes = tensor.bytes();
      if (bytes.byteLength !== tensor.byteLength)
        throw new Error(
          `${file}: tensor ${name} produced ${bytes.byteLength} bytes, its header says ${tensor.byteLength}`,
        );
      for (let done = 0; done < bytes.byteLength;)
        done += fs.writeSync(fd, bytes, done, bytes.byteLength - done);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes float32 tensors as a safetensors file (see writeSafetensorsFile). */
export function writeSafetensors(
  file: string,
  tensors: ReadonlyMap<string, FloatTensor>,
  metadata: Record<string, string> = { format: 'pt' },
): void {
  const entries = new Map<string, TensorToWrite>();
  for (const [name, { shape, values }] of tensors) {
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== values.length)
      throw new Error(`writeSafetensors: tensor ${name} has ${values.length} values for shape [${shape}]`);
    entries.set(name, {
      dtype: 'F32',
      shape,
      byteLength: values.byteLength,
      bytes: () => new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
    });
  }
  writeSafetensorsFile(file, entries, metadata);
}
