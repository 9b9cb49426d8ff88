/**
 * Issue 8, concurrent runs: two processes that keep adding rows to the same results file and the same
 * table curve file (as `repro --rows A` and `--rows B` with one --out do) lose none of each other's rows,
 * and the files always parse.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parseResultsCsv } from "../src/harness/csv.ts";
import { readTableCurves } from "../src/harness/curves.ts";
import { lockPath } from "../src/harness/lock.ts";

const WRITER = fileURLToPath(new URL("./helpers/concurrent_writer.ts", import.meta.url));
const ROWS = 25;

Deno.test("two processes updating one results file and one curve file keep every row", async () => {
  const dir = await Deno.makeTempDir();
  const results = `${dir}/mnist.csv`, curves = `${dir}/mnist-smoke-curves.csv`;
  const writer = (tag: string) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", WRITER, results, curves, tag, String(ROWS)],
      stdout: "null",
      stderr: "piped",
    }).output();
  // A reader alongside: the results file parses whenever it exists.
  let running = true;
  const reader = (async () => {
    let reads = 0;
    while (running) {
      const text = await Deno.readTextFile(results).catch(() => null);
      if (text !== null) {
        parseResultsCsv(text, results);
        reads++;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    return reads;
  })();
  const outs = await Promise.all([writer("a"), writer("b")]);
  running = false;
  assert.ok(await reader > 0, "the reader never saw the file");
  for (const o of outs) assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));

  const rows = parseResultsCsv(await Deno.readTextFile(results), results).map((r) => r.row).sort();
  const expected = ["a", "b"].flatMap((t) => Array.from({ length: ROWS }, (_, i) => `${t} ${i}`)).sort();
  assert.deepEqual(rows, expected);
  const blocks = await readTableCurves(curves);
  assert.deepEqual([...blocks.keys()].sort(), expected.map((r) => r.replace(" ", "-")).sort());
  for (const lines of blocks.values()) assert.equal(lines.length, 2);
  await assert.rejects(Deno.stat(lockPath(results)), Deno.errors.NotFound, "the lock file is removed");
  await assert.rejects(Deno.stat(lockPath(curves)), Deno.errors.NotFound);
});
