/**
 * Optimizer update kernels over a range of the flat parameter buffers, four scalars per invocation.
 * Decay rates and epsilon are baked into the source; the learning rate and Adam's bias corrections change
 * every step and are read from a small uniform (`HYPER`: lr, 1/(1-beta1^t), 1/(1-beta2^t), unused).
 * After the update each weight is multiplied by its 0/1 mask, so masked weights stay exactly zero.
 */
import { BUILTINS_1D, f, grid1d, linearIndex, u } from "./common.ts";
import type { Kernel } from "./kernel.ts";

/** The constant part of an update rule (baked into the kernel source). */
export type UpdateRule =
  | { kind: "rmsprop"; decay: number; eps: number }
  | { kind: "adam"; beta1: number; beta2: number; eps: number };

/** State buffers each rule keeps, in binding order (one f32 per parameter each). */
export function stateNames(rule: UpdateRule): string[] {
  return rule.kind === "rmsprop" ? ["V"] : ["M", "V"];
}

const WG = 64;

/** New weight `w` from gradient `g`, updating the rule's state in place. */
function updateBody(rule: UpdateRule): string {
  if (rule.kind === "rmsprop") {
    return `
  let v = ${f(rule.decay)} * V[i] + ${f(1 - rule.decay)} * g * g;
  V[i] = v;
  var w = W[i] - HYPER.x * g / (sqrt(v) + ${f(rule.eps)});`;
  }
  return `
  let m = ${f(rule.beta1)} * M[i] + ${f(1 - rule.beta1)} * g;
  let v = ${f(rule.beta2)} * V[i] + ${f(1 - rule.beta2)} * g * g;
  M[i] = m;
  V[i] = v;
  var w = W[i] - HYPER.x * (m * HYPER.y) / (sqrt(v * HYPER.z) + ${f(rule.eps)});`;
}

/**
 * Updates `count` parameters (a multiple of 4) of one binding range. `masked` adds a MASK binding.
 * `maxGroups` is the adapter's workgroups-per-dimension limit.
 */
export function optimizerUpdate(rule: UpdateRule, count: number, masked: boolean, maxGroups: number): Kernel {
  if (count % 4 !== 0) throw new Error(`optimizer range of ${count} parameters is not a multiple of 4`);
  const quads = count / 4;
  const bindings = ["W", "G", ...(masked ? ["MASK"] : []), ...stateNames(rule), "HYPER"];
  const decls = bindings.map((name, b) => {
    const kind = name === "HYPER"
      ? "uniform> HYPER: vec4f"
      : `storage, ${name === "G" || name === "MASK" ? "read" : "read_write"}> ${name}: array<vec4f>`;
    return `@group(0) @binding(${b}) var<${kind};`;
  });
  const code = `${decls.join("\n")}
@compute @workgroup_size(${WG})
fn main(${BUILTINS_1D}) {
  let i = ${linearIndex(WG)};
  if (i >= ${u(quads)}) { return; }
  let g = G[i];${updateBody(rule)}
  ${masked ? "w = w * MASK[i];" : ""}
  W[i] = w;
}`;
  return { code, bindings, workgroups: grid1d(quads, WG, maxGroups), usesStep: false };
}
