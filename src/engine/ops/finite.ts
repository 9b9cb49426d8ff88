/**
 * Non-finite checks recorded as dispatches (training's divergence guard): each group of buffers, e.g.
 * the weights, gets a u32 counter of its NaN and ±Inf values, so one small read says whether a state
 * is safe to keep. Not differentiated.
 */
import { GpuError } from "../device.ts";
import type { Graph } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import { clearCounts, countNonFinite } from "../../wgsl/finite.ts";

/** The first `elements` f32 values of a buffer. */
export interface Region {
  buffer: GPUBuffer;
  elements: number;
}

/**
 * Records dispatches that set `counts[k]` (u32, one per group) to the number of non-finite values in
 * the regions of `groups[k]`. Regions over the storage-binding limit (or `maxBindingBytes`, which tests
 * lower) are counted in several aligned ranges.
 */
export function recordNonFiniteCounts(
  g: Graph,
  label: string,
  groups: Region[][],
  counts: Tensor,
  maxBindingBytes = g.gpu.limits.maxStorageBufferBindingSize,
): void {
  if (counts.dtype !== "u32" || counts.size !== groups.length) {
    throw new GpuError(
      `${label}: counts must be u32 [${groups.length}], got ${counts.dtype} [${counts.shape}]`,
    );
  }
  const align = Math.max(16, g.gpu.limits.minStorageBufferOffsetAlignment) / 4;
  const limit = Math.min(maxBindingBytes, g.gpu.limits.maxStorageBufferBindingSize);
  const range = Math.floor(limit / 4 / align) * align;
  if (range <= 0) throw new GpuError(`${label}: binding limit of ${limit} bytes is below one aligned range`);
  g.dispatch(`${label} clear`, clearCounts(groups.length), { COUNT: counts });
  groups.forEach((regions, slot) => {
    for (const r of regions) {
      for (let start = 0; start < r.elements; start += range) {
        const count = Math.min(range, r.elements - start);
        g.dispatch(
          `${label} [${slot}] ${r.buffer.label} [${start}, ${start + count})`,
          countNonFinite(count, slot),
          {
            X: { buffer: r.buffer, offset: start * 4, size: count * 4 },
            COUNT: counts,
          },
        );
      }
    }
  });
}
