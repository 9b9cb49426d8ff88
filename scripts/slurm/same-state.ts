/**
 * For the Slurm test: checks that two training checkpoints hold the same training state, byte for byte:
 * every tensor (weights and optimizer state) and every metadata entry except `wall_s`, the wall-clock
 * seconds spent training, which no two runs share.
 *
 *   deno run -A scripts/slurm/same-state.ts A B
 */
import { decodeSafetensors } from "../../src/engine/safetensors.ts";

const [a, b] = Deno.args;
const [x, y] = [a, b].map((f) => decodeSafetensors(Deno.readFileSync(f), f));
const bytes = (d: ArrayBufferView) => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
const differences: string[] = [];
for (const name of new Set([...Object.keys(x.tensors), ...Object.keys(y.tensors)])) {
  const [s, t] = [x.tensors[name], y.tensors[name]];
  const same = s && t && s.dtype === t.dtype && JSON.stringify(s.shape) === JSON.stringify(t.shape) &&
    bytes(s.data).every((v, i) => v === bytes(t.data)[i]);
  if (!same) differences.push(`tensor ${name}`);
}
for (const key of new Set([...Object.keys(x.metadata), ...Object.keys(y.metadata)])) {
  if (key !== "wall_s" && x.metadata[key] !== y.metadata[key]) differences.push(`metadata ${key}`);
}
if (differences.length) {
  console.error(`${a} and ${b} differ: ${differences.join(", ")}`);
  Deno.exit(1);
}
