/** Small helpers shared by the WGSL generators. */

/** A u32 WGSL literal. */
export function u(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`not a u32: ${n}`);
  return `${n}u`;
}

/** A f32 WGSL literal that round-trips exactly. */
export function f(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`not a finite f32: ${x}`);
  const s = String(Math.fround(x));
  return s.includes(".") || s.includes("e") ? s : `${s}.0`;
}

/**
 * An element offset that may depend on the step index `t` of a recurrent layer: `c + t * perStep`.
 * Kernels that use `t` read it from a small uniform bound per step.
 */
export interface Offset {
  c: number;
  perStep?: number;
}

export function offsetExpr(o: Offset): string {
  return o.perStep ? `(${u(o.c)} + step.t * ${u(o.perStep)})` : u(o.c);
}

export function offsetAligned(o: Offset, k: number): boolean {
  return o.c % k === 0 && (o.perStep ?? 0) % k === 0;
}

export const STEP_UNIFORM = `struct Step { t: u32 }`;

/** Workgroup grid for a 1-D problem of `count` invocations in groups of `wg`, split over x and y. */
export function grid1d(count: number, wg: number, maxPerDim = 65535): [number, number, number] {
  const groups = Math.max(1, Math.ceil(count / wg));
  if (groups <= maxPerDim) return [groups, 1, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y, 1];
}

/** The linear invocation index for a {@link grid1d} dispatch (`wid`, `lid`, `nwg` builtins in scope). */
export function linearIndex(wg: number): string {
  return `(wid.x + wid.y * nwg.x) * ${u(wg)} + lid.x`;
}

export const BUILTINS_1D = "@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, " +
  "@builtin(num_workgroups) nwg: vec3u";

/** max(i32(e) + offset, 0) as a WGSL u32, for a u32 expression `e` (a position or step index). */
export function clampedShift(e: string, offset: number): string {
  return `u32(max(i32(${e}) ${offset < 0 ? "-" : "+"} ${Math.abs(offset)}, 0))`;
}
