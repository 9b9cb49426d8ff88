/**
 * Issue 8, write failures: every output location is checked before any work starts (one line naming the
 * path, no stack trace), a disk that fills during the work keeps what was computed and says where, and
 * repro checks its results and curve files before it trains. A path under /proc stands in for an
 * unwritable place everywhere; a small tmpfs for a full disk where the test can mount one.
 */
import assert from "node:assert/strict";
import { loadCheckpoint } from "../src/harness/checkpoint.ts";
import { parseResultsCsv } from "../src/harness/csv.ts";
import { keepAside } from "../src/harness/results_update.ts";
import { referenceRow } from "../src/harness/repro.ts";
import { tableById } from "../src/harness/tables/mod.ts";
import { oneError, task } from "./helpers/cli.ts";
import { modelFile, TINY_MNIST } from "./helpers/model_files.ts";
import { CAN_MOUNT_TMPFS, withTmpfs } from "./helpers/tmpfs.ts";

const TRAIN = [
  "--preset",
  "mnist-pixelcnn",
  "--layers",
  "1",
  "--h",
  "4",
  "--output-maps",
  "8",
  "--steps",
  "2",
];
/** One smoke row of Table 4: seconds. */
const SMOKE_ROW = ["mnist", "--tier", "smoke", "--rows", "row-lstm"];
const UNWRITABLE = "/proc/x/out";

/** The reason part of a write error: "<path>: cannot write (<reason>)". */
function cannotWrite(line: string, command: string, path: string): string {
  const prefix = `${command}: ${path}: cannot write (`;
  assert.ok(line.startsWith(prefix), line);
  return line.slice(prefix.length);
}

Deno.test("train refuses a checkpoint path under /proc or under a file before opening the device", async () => {
  const file = await Deno.makeTempFile();
  for (const path of [`${UNWRITABLE}/ck.safetensors`, `${file}/ck.safetensors`]) {
    const r = await task("train", [...TRAIN, "--checkpoint", path]);
    assert.match(cannotWrite(oneError(r), "train", path), /\)$/);
    assert.doesNotMatch(r.stderr, /^train mnist-pixelcnn/m, "no training may start");
  }
});

Deno.test("sample refuses an --out it cannot write before sampling", async () => {
  const model = await modelFile(TINY_MNIST, `${await Deno.makeTempDir()}/m.safetensors`);
  const out = `${UNWRITABLE}/samples.png`;
  const r = await task("sample", ["--checkpoint", model, "--count", "1", "--out", out]);
  cannotWrite(oneError(r), "sample", out);
  assert.doesNotMatch(r.stderr, /row 1\//);
});

Deno.test("repro: --out unwritable, --check or --merge of a missing file, --rows bogus: one line each", async () => {
  const cwd = await Deno.makeTempDir();
  const out = `${UNWRITABLE}/mnist.csv`;
  const unwritable = await task("repro", [...SMOKE_ROW, "--out", out], cwd);
  cannotWrite(oneError(unwritable), "repro", out);
  assert.doesNotMatch(unwritable.stderr, /steps of batch/, "no row may train");
  const missing = `${cwd}/missing.csv`;
  const check = await task("repro", ["mnist", "--check", "--out", missing], cwd);
  assert.equal(oneError(check), `repro: ${missing}: not found`);
  const merge = await task("repro", ["mnist", "--merge", missing, "--out", `${cwd}/merged.csv`], cwd);
  assert.equal(oneError(merge), `repro: ${missing}: not found`);
  const bogus = await task("repro", ["mnist", "--tier", "smoke", "--rows", "bogus"], cwd);
  assert.match(oneError(bogus), /^repro: mnist has no row bogus; its rows: dbm, .*, diagonal-7x16$/);
  assert.equal(bogus.code, 2);
  assert.deepEqual([...Deno.readDirSync(cwd)], [], "nothing may be written");
});

Deno.test("repro checks results/<table>.csv and the table's curve file before it trains", async () => {
  const cwd = await Deno.makeTempDir();
  await Deno.mkdir(`${cwd}/results`);
  const results = `${cwd}/results/mnist.csv`, curves = `${cwd}/results/mnist-smoke-curves.csv`;
  await Deno.writeTextFile(results, "not,a,results,file\n");
  const bad = await task("repro", ["mnist", "--tier", "smoke", "--out", results], cwd);
  assert.match(oneError(bad), /^repro: .*results\/mnist\.csv: line 1: bad header: column 1 is "not"/);
  assert.doesNotMatch(bad.stderr, /steps of batch/, "no row may train");
  assert.equal(await Deno.readTextFile(results), "not,a,results,file\n");
  await Deno.remove(results);
  await Deno.writeTextFile(curves, "step,loss\n1,2\n");
  const badCurves = await task("repro", ["mnist", "--tier", "smoke"], cwd);
  assert.match(oneError(badCurves), /^repro: results\/mnist-smoke-curves\.csv: not a table curve file/);
  assert.doesNotMatch(badCurves.stderr, /steps of batch/);
});

Deno.test("rows that cannot reach the results file are kept in a side file, named", async () => {
  const table = tableById("mnist");
  const rows = table.rows.slice(0, 2).map((r) => referenceRow(table, r, "smoke", "adapter", "abc1234"));
  const said = await keepAside(`${UNWRITABLE}/mnist.csv`, rows);
  const path = said.match(/^the 2 result rows computed are kept in (.+\.csv)$/)?.[1];
  assert.ok(path, said);
  assert.ok(!path.startsWith("/proc"), "the fallback is the temporary folder");
  assert.deepEqual(parseResultsCsv(await Deno.readTextFile(path), path), rows);
});

Deno.test({
  name: "a full disk: train's checkpoint and repro's results fail in one line, keeping what was computed",
  ignore: !CAN_MOUNT_TMPFS,
  async fn() {
    // Two pages: the curve's header fits, the checkpoint (about 12 KB) does not.
    await withTmpfs(8192, async (disk) => {
      const path = `${disk}/ck.safetensors`;
      const r = await task("train", [...TRAIN, "--checkpoint", path]);
      assert.match(
        cannotWrite(oneError(r), "train", path),
        /^No space left on device \(os error 28\)\); no checkpoint was written$/,
      );
      await assert.rejects(loadCheckpoint(path));
    });
    // One page, filled: the probes' empty files fit, the row's curve (written next to the results file,
    // once the row's results are computed) does not.
    await withTmpfs(4096, async (disk) => {
      await Deno.writeFile(`${disk}/filler`, new Uint8Array(4096));
      const cwd = await Deno.makeTempDir();
      const out = `${disk}/mnist.csv`;
      const r = await task("repro", [...SMOKE_ROW, "--out", out], cwd);
      const line = cannotWrite(oneError(r), "repro", `${disk}/mnist-smoke-curves.csv`);
      const kept = line.match(
        /^No space left on device \(os error 28\)\); the \d+ result rows computed are kept in (.+)$/,
      )
        ?.[1];
      assert.ok(kept, line);
      const rows = parseResultsCsv(await Deno.readTextFile(kept), kept);
      assert.equal(rows.find((x) => x.row === "Row LSTM")?.status, "not-comparable");
    });
  },
});
