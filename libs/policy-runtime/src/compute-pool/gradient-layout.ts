import * as tf from '@tensorflow/tfjs-core';
import { disposeAll, GradientAccumulator, type NamedTensors } from '@recon/policy';

/** Where each trainable weight's gradient sits in a micro-batch's slot of the shared gradient buffer. */
export interface GradientLayout {
  entries: Array<{ name: string; shape: number[]; offset: number; size: number }>;
  /** Floats per micro-batch slot. */
  floats: number;
}

export function gradientLayout(weights: ReadonlyMap<string, tf.Variable>): GradientLayout {
  let offset = 0;
  const entries = [...weights.keys()].sort().map((name) => {
    const shape = [...(weights.get(name) as tf.Variable).shape];
    const size = shape.reduce((a, b) => a * b, 1);
    const entry = { name, shape, offset, size };
    offset += size;
    return entry;
  });
  return { entries, floats: offset };
}

/** Bytes of a shared buffer holding `microBatches` gradient slots. */
export function gradientBufferBytes(layout: GradientLayout, microBatches: number): number {
  return layout.floats * microBatches * Float32Array.BYTES_PER_ELEMENT;
}

function slotView(buffer: SharedArrayBuffer, layout: GradientLayout, slot: number): Float32Array {
  if ((slot + 1) * layout.floats * 4 > buffer.byteLength)
    throw new Error(`gradient slot ${slot} is past the shared buffer (${buffer.byteLength} bytes)`);
  return new Float32Array(buffer, slot * layout.floats * 4, layout.floats);
}

export function writeGradients(
  buffer: SharedArrayBuffer,
  layout: GradientLayout,
  slot: number,
  grads: NamedTensors,
): void {
  const view = slotView(buffer, layout, slot);
  for (const { name, offset, size } of layout.entries) {
    const values = grads[name].dataSync() as Float32Array;
    if (values.length !== size)
      throw new Error(`gradient of "${name}" has ${values.length} values, expected ${size}`);
    view.set(values, offset);
  }
}

/** The gradients of slot `slot` as new tensors (copies: the buffer is rewritten next step). */
export function readGradients(buffer: SharedArrayBuffer, layout: GradientLayout, slot: number): NamedTensors {
  const view = slotView(buffer, layout, slot);
  const grads: NamedTensors = {};
  for (const { name, shape, offset, size } of layout.entries)
    grads[name] = tf.tensor(view.slice(offset, offset + size), shape, 'float32');
  return grads;
}

/**
 * The step's gradient: slots 0..count-1 summed in slot order (the order every replica uses, so replicas stay
 * bit-identical whatever the worker count).
 */
export function accumulateGradients(
  buffer: SharedArrayBuffer,
  layout: GradientLayout,
  count: number,
): GradientAccumulator {
  const accumulator = new GradientAccumulator();
  for (let k = 0; k < count; k++) {
    const grads = readGradients(buffer, layout, k);
    accumulator.add(grads);
    disposeAll(grads);
  }
  return accumulator;
}
