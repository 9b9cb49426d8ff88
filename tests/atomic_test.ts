import assert from "node:assert/strict";
import { join } from "node:path";
import { writeFileAtomic } from "../src/harness/atomic.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "atomic_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

Deno.test("writeFileAtomic writes bytes and strings, creating the directory", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "a", "b", "ckpt.safetensors");
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    assert.deepEqual(await Deno.readFile(path), new Uint8Array([1, 2, 3]));
    await writeFileAtomic(path, "héllo");
    assert.equal(await Deno.readTextFile(path), "héllo");
    assert.deepEqual(await names(join(dir, "a", "b")), ["ckpt.safetensors"]);
  });
});

Deno.test("writeFileAtomic: a reader sees the old or the new content, never a mix", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "results.csv");
    const old = new Uint8Array(1 << 20).fill(1);
    const next = new Uint8Array(1 << 21).fill(2);
    await Deno.writeFile(path, old);
    let writing = true;
    const reader = (async () => {
      const seen = new Set<string>();
      while (writing) {
        const got = await Deno.readFile(path);
        const kind = got.length === old.length && got.every((b) => b === 1)
          ? "old"
          : got.length === next.length && got.every((b) => b === 2)
          ? "new"
          : `mixed (${got.length} bytes)`;
        seen.add(kind);
      }
      return seen;
    })();
    for (let i = 0; i < 5; i++) await writeFileAtomic(path, i % 2 === 0 ? next : old);
    writing = false;
    for (const kind of await reader) assert.ok(kind === "old" || kind === "new", kind);
    assert.deepEqual(await Deno.readFile(path), next);
    assert.deepEqual(await names(dir), ["results.csv"]);
  });
});

Deno.test("writeFileAtomic leaves no temp file and the target untouched when it fails", async () => {
  await withTempDir(async (dir) => {
    // Renaming a file over a non-empty directory fails after the temp file has been written.
    const target = join(dir, "target");
    await Deno.mkdir(target);
    await Deno.writeTextFile(join(target, "keep"), "x");
    await assert.rejects(() => writeFileAtomic(target, "new"));
    assert.deepEqual(await names(dir), ["target"]);
    assert.equal(await Deno.readTextFile(join(target, "keep")), "x");
  });
});
