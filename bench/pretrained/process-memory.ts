import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';

export const MIB = 2 ** 20;

/** This process's resident-set high-water mark (VmHWM), in MiB. */
export function peakRssMb(): number {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
  if (!match) throw new Error('/proc/self/status has no VmHWM line (not Linux?)');
  return Number(match[1]) / 1024;
}

/**
 * Resets VmHWM to the current RSS (Linux's clear_refs "5"), so the next reading is the peak of what runs
 * in between. Returns false where the kernel refuses it: readings are then cumulative.
 */
export function resetPeakRss(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** The wasm backend's heap (it only grows, so this is its high-water mark), in MiB; null on other backends. */
export function wasmHeapMb(): number | null {
  if (tf.getBackend() !== 'wasm') return null;
  const backend = tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } };
  return backend.wasm.HEAPU8.buffer.byteLength / MIB;
}

/** Bytes of tensor data the backend holds while metered: what is allocated in between, and its peak. */
export interface TensorMemoryMeter {
  /** Highest live bytes since the meter started (or since resetPeak), above what was live then. */
  peak(): number;
  resetPeak(): void;
  stop(): void;
}

interface WasmAllocator {
  _malloc(bytes: number): number;
  _free(pointer: number): void;
}

interface CpuStorage {
  data: { has(id: object): boolean };
  write(values: unknown, shape: number[], dtype: tf.DataType): object;
  disposeData(id: object, force?: boolean): boolean;
}

/**
 * Counts the data buffers the backend allocates and frees (wasm: its malloc and free; cpu: its data
 * storage), not tensors: tfjs's own tf.memory().numBytes counts a reshape, which shares its input's buffer,
 * as new bytes. Buffers allocated before the meter started are not counted when freed.
 */
export function meterTensorMemory(): TensorMemoryMeter {
  let live = 0;
  let peak = 0;
  let base = 0;
  const note = (bytes: number) => {
    live += bytes;
    if (live > peak) peak = live;
  };
  const backend = tf.backend() as unknown;
  let stop: () => void;
  if (tf.getBackend() === 'wasm') {
    const wasm = (backend as { wasm: WasmAllocator }).wasm;
    // Emscripten binds these lazily: the first call replaces the export with the raw function (and would
    // replace a wrapper installed before it), so they are called once first.
    wasm._free(wasm._malloc(8));
    const { _malloc: malloc, _free: free } = wasm;
    const sizes = new Map<number, number>();
    wasm._malloc = (bytes) => {
      const pointer = malloc(bytes);
      // malloc returns offsets past 2 GB as negative int32s; the backend frees them unsigned.
      sizes.set(pointer >>> 0, bytes);
      note(bytes);
      return pointer;
    };
    wasm._free = (pointer) => {
      note(-(sizes.get(pointer >>> 0) ?? 0));
      sizes.delete(pointer >>> 0);
      free(pointer);
    };
    stop = () => Object.assign(wasm, { _malloc: malloc, _free: free });
  } else if (tf.getBackend() === 'cpu') {
    const storage = backend as CpuStorage;
    const { write, disposeData } = storage;
    const sizes = new WeakMap<object, number>();
    storage.write = function (values, shape, dtype) {
      const id = write.call(this, values, shape, dtype);
      const bytes =
        dtype === 'string'
          ? 0
          : shape.reduce((a, b) => a * b, 1) * ({ complex64: 8, bool: 1 }[dtype as string] ?? 4);
      sizes.set(id, bytes);
      note(bytes);
      return id;
    };
    storage.disposeData = function (id, force) {
      const freed = disposeData.call(this, id, force);
      if (!this.data.has(id)) {
        note(-(sizes.get(id) ?? 0));
        sizes.delete(id);
      }
      return freed;
    };
    stop = () => Object.assign(storage, { write, disposeData });
  } else {
    throw new Error(`meterTensorMemory: backend ${tf.getBackend()} is not metered (wasm and cpu are)`);
  }
  return {
    peak: () => peak - base,
    resetPeak: () => {
      peak = live;
      base = live;
    },
    stop: () => stop(),
  };
}
