/**
 * A dataset resident on the GPU: uploaded once as packed bytes, after which each training batch is
 * filled on the GPU from a small tensor of image indices (4 bytes per image cross the bus per step).
 */
import { type Gpu, GpuError } from "../device.ts";
import type { Graph } from "../graph.ts";
import { Tensor } from "../tensor.ts";
import { gatherBatch } from "../../wgsl/gather.ts";

/**
 * Uploads `pixels` (images of `imageBytes` bytes each, NHWC, contiguous) as one u32 tensor of packed
 * bytes. Refuses data over the adapter's storage-binding limit: the caller splits the dataset into
 * chunks that fit. The caller owns the result (destroy its `buffer` when done).
 */
export function uploadDataset(gpu: Gpu, pixels: Uint8Array, imageBytes: number, label = "dataset"): Tensor {
  if (!Number.isInteger(imageBytes) || imageBytes <= 0 || pixels.length % imageBytes !== 0) {
    throw new GpuError(
      `${label}: ${pixels.length} bytes are not a whole number of ${imageBytes}-byte images`,
    );
  }
  const words = Math.max(1, Math.ceil(pixels.length / 4));
  const limit = gpu.limits.maxStorageBufferBindingSize;
  if (words * 4 > limit) {
    const fit = Math.floor(limit / imageBytes);
    throw new GpuError(
      `${label}: ${pixels.length} bytes exceed this adapter's storage binding limit of ${limit} bytes; ` +
        `upload it in chunks of at most ${fit} images`,
    );
  }
  const buffer = gpu.createBuffer(label, words * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
  // writeBuffer needs a multiple of 4 bytes: copy the tail into a padded word.
  const whole = pixels.length - (pixels.length % 4);
  if (whole) gpu.device.queue.writeBuffer(buffer, 0, pixels as Uint8Array<ArrayBuffer>, 0, whole);
  if (whole < pixels.length) {
    const tail = new Uint8Array(4);
    tail.set(pixels.subarray(whole));
    gpu.device.queue.writeBuffer(buffer, whole, tail);
  }
  return new Tensor(gpu, label, [words], buffer, 0, "u32");
}

/**
 * Records the dispatch that fills a batch from image indices: `outTargets[b]` (u32 [B,H,W,C]) gets the
 * bytes of image `indices[b]` and `outInput[b]` (f32, same shape) gets byte * inputScale + inputShift
 * (1/255 and -0.5 for 8-bit images, 1 and 0 for binarized MNIST). Indices must be below the number of
 * images in `dataset`. Not differentiated.
 */
export function recordGatherBatch(
  g: Graph,
  dataset: Tensor,
  imageBytes: number,
  indices: Tensor,
  outInput: Tensor,
  outTargets: Tensor,
  inputScale: number,
  inputShift: number,
): void {
  const name = `gather ${dataset.label}`;
  const [B, ...rest] = outInput.shape;
  const sameShape = outTargets.shape.length === outInput.shape.length &&
    outTargets.shape.every((d, i) => d === outInput.shape[i]);
  const types = dataset.dtype === "u32" && indices.dtype === "u32" && outTargets.dtype === "u32" &&
    outInput.dtype === "f32";
  if (!types || !sameShape || indices.shape.length !== 1 || indices.shape[0] !== B) {
    throw new GpuError(
      `${name}: expects u32 dataset, u32 indices [B], f32 input and u32 targets [B,H,W,C], got ` +
        `${indices.dtype} [${indices.shape}], ${outInput.dtype} [${outInput.shape}], ` +
        `${outTargets.dtype} [${outTargets.shape}]`,
    );
  }
  if (rest.reduce((a, b) => a * b, 1) !== imageBytes) {
    throw new GpuError(`${name}: batch images [${rest}] do not hold ${imageBytes} bytes`);
  }
  g.dispatch(name, gatherBatch({ batch: B, imageBytes, inputScale, inputShift }), {
    DATA: dataset,
    IDX: indices,
    INPUT: outInput,
    TARGETS: outTargets,
  });
}
