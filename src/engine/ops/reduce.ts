/** Deterministic sums recorded as ops (used by bias gradients and losses). */
import type { Graph } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import { chunksOf, columnSumChunks, columnSumFinish, type ColumnSumSpec } from "../../wgsl/reduce.ts";

/** Rows per first-pass invocation: long enough to amortise, short enough to keep many invocations. */
const CHUNK = 256;

/**
 * Records dispatches that write (or add, with `accumulate`) the column sums of `src`, viewed as
 * `groups` stacked [rows, cols] matrices, into `dst` [groups, cols]. Not differentiated: callers use it
 * inside backward closures or on values that need no gradient.
 */
export function columnSum(
  g: Graph,
  label: string,
  src: Tensor,
  dst: Tensor,
  shape: { groups?: number; rows: number; cols: number },
  accumulate: boolean,
): void {
  const spec: ColumnSumSpec = {
    groups: shape.groups ?? 1,
    rows: shape.rows,
    cols: shape.cols,
    chunk: CHUNK,
    accumulate,
  };
  const chunks = chunksOf(spec);
  if (chunks === 1) {
    g.dispatch(label, columnSumChunks(spec), { SRC: src, OUT: dst });
    return;
  }
  const part = g.alloc(`${label}.partial`, [spec.groups, chunks, spec.cols]);
  g.dispatch(`${label} chunks`, columnSumChunks(spec), { SRC: src, OUT: part });
  g.dispatch(`${label} finish`, columnSumFinish(spec), { PART: part, OUT: dst });
}
