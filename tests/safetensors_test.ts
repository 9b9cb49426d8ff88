import assert from "node:assert/strict";
import {
  CheckpointError,
  decodeSafetensors,
  encodeSafetensors,
  type SafeTensor,
} from "../src/engine/safetensors.ts";

function sample(): Record<string, SafeTensor> {
  return {
    "layer.w": { dtype: "F32", shape: [2, 3], data: new Float32Array([1.5, -2, 3.25, 0, 1e-7, -1e30]) },
    "rng.state": { dtype: "U32", shape: [4], data: new Uint32Array([1, 0xffffffff, 7, 0]) },
    "cursor": { dtype: "I32", shape: [], data: new Int32Array([-12]) },
    "mask": { dtype: "U8", shape: [3], data: new Uint8Array([0, 1, 255]) },
    "loss": { dtype: "F64", shape: [2], data: new Float64Array([Math.PI, -0.1]) },
    "empty": { dtype: "F32", shape: [0, 5], data: new Float32Array(0) },
  };
}

/** Builds a file from a hand-written header object and data bytes. */
function build(
  header: unknown,
  data: Uint8Array,
  json: Uint8Array = new TextEncoder().encode(JSON.stringify(header)),
): Uint8Array {
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function rejects(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => decodeSafetensors(bytes, "ckpt.safetensors"), (e: unknown) => {
    assert.ok(e instanceof CheckpointError, `expected CheckpointError, got ${e}`);
    assert.ok(!e.message.includes("\n"), "message is one line");
    assert.match(e.message, /^ckpt\.safetensors: /);
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("safetensors round-trips every dtype, shapes and metadata", () => {
  const tensors = sample();
  const bytes = encodeSafetensors(tensors, { config: '{"h":32}', step: "100" });
  const back = decodeSafetensors(bytes);
  assert.deepEqual(back.metadata, { config: '{"h":32}', step: "100" });
  assert.deepEqual(Object.keys(back.tensors).sort(), Object.keys(tensors).sort());
  for (const [name, t] of Object.entries(tensors)) {
    assert.equal(back.tensors[name].dtype, t.dtype);
    assert.deepEqual(back.tensors[name].shape, t.shape);
    assert.equal(back.tensors[name].data.constructor, t.data.constructor);
    assert.deepEqual(Array.from(back.tensors[name].data), Array.from(t.data));
  }
});

Deno.test("safetensors header is space-padded to 8 bytes and tensors are aligned to their element size", () => {
  const bytes = encodeSafetensors(sample(), { a: "b" });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assert.match(text, /^\{.*\} *$/s);
  const header = JSON.parse(text);
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, data_offsets } = entry as { dtype: string; data_offsets: number[] };
    const size = { F64: 8, F32: 4, U32: 4, I32: 4, U8: 1 }[dtype]!;
    assert.equal(data_offsets[0] % size, 0, `${name} aligned`);
  }
});

Deno.test("safetensors decodes from an unaligned view with aligned copies", () => {
  const bytes = encodeSafetensors({ x: { dtype: "F32", shape: [3], data: new Float32Array([1, 2, 3]) } });
  const shifted = new Uint8Array(bytes.length + 1);
  shifted.set(bytes, 1);
  const view = shifted.subarray(1);
  const x = decodeSafetensors(view).tensors.x.data;
  assert.deepEqual(Array.from(x), [1, 2, 3]);
  assert.notEqual(x.buffer, shifted.buffer, "data is a copy");
  // A header of odd length puts the data at an odd file offset; decoding still works.
  const data = new Uint8Array(new Float32Array([4, 5]).buffer);
  const header = '{"y":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} ';
  const odd = build(null, data, new TextEncoder().encode(header));
  assert.deepEqual(Array.from(decodeSafetensors(odd).tensors.y.data), [4, 5]);
});

Deno.test("safetensors decodes a file with no tensors", () => {
  assert.deepEqual(decodeSafetensors(encodeSafetensors({})), { tensors: {}, metadata: {} });
});

Deno.test("safetensors refuses malformed files with a one-line message naming the file", () => {
  const good = encodeSafetensors(sample());
  const f32 = (n: number) => new Uint8Array(4 * n);
  rejects(good.subarray(0, 5), /at least 8/);
  const huge = good.slice();
  new DataView(huge.buffer).setBigUint64(0, 1n << 60n, true);
  rejects(huge, /header length \d+ is beyond the end of the file/);
  const text = (t: string) => new TextEncoder().encode(t);
  rejects(build(null, new Uint8Array(0), text("{not json")), /not valid UTF-8 JSON/);
  rejects(build(null, new Uint8Array(0), new Uint8Array([0x7b, 0xff, 0x7d])), /not valid UTF-8 JSON/);
  rejects(build(null, new Uint8Array(0), text("[1,2]")), /not a JSON object/);
  rejects(build({ x: 5 }, f32(0)), /tensor "x": header entry is not an object/);
  rejects(
    build({ x: { dtype: "F16", shape: [1], data_offsets: [0, 2] } }, f32(1)),
    /unsupported dtype "F16"/,
  );
  rejects(build({ x: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, f32(1)), /bad shape/);
  rejects(build({ x: { dtype: "F32", shape: [1], data_offsets: [4, 0] } }, f32(1)), /bad data_offsets/);
  rejects(build({ x: { dtype: "F32", shape: [1], data_offsets: [0] } }, f32(1)), /bad data_offsets/);
  rejects(
    build({ x: { dtype: "F32", shape: [2, 2], data_offsets: [0, 12] } }, f32(3)),
    /span 12 bytes.*needs 16/,
  );
  rejects(
    build({
      x: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      y: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
    }, f32(3)),
    /overlap/,
  );
  rejects(
    build({ x: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, f32(2)),
    /bytes 0\.\.4 .*belong to no tensor/,
  );
  rejects(
    build({ x: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, f32(2)),
    /found 8 \(trailing bytes\)/,
  );
  rejects(build({ __metadata__: { a: 1 } }, f32(0)), /__metadata__ must be an object of strings/);
});

Deno.test("safetensors refuses a truncated file, saying how much data is missing", () => {
  const good = encodeSafetensors({ w: { dtype: "F32", shape: [300], data: new Float32Array(300).fill(1) } });
  const cut = good.subarray(0, good.length - 200);
  rejects(cut, /^ckpt\.safetensors: truncated: header says 1200 data bytes, found 1000$/);
});

Deno.test("encodeSafetensors refuses inconsistent tensors", () => {
  const bad: Record<string, SafeTensor>[] = [
    { x: { dtype: "F32", shape: [3], data: new Float32Array(2) } },
    { x: { dtype: "F32", shape: [2], data: new Float64Array(2) } },
    { x: { dtype: "F32", shape: [1.5], data: new Float32Array(1) } },
    { __metadata__: { dtype: "U8", shape: [0], data: new Uint8Array(0) } },
  ];
  for (const t of bad) assert.throws(() => encodeSafetensors(t), CheckpointError);
  assert.throws(
    () => encodeSafetensors({}, { a: 1 as unknown as string }),
    /metadata "a" must be a string/,
  );
});
