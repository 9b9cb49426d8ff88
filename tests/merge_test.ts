/**
 * Merged tables are whole: `repro --merge` gives every row of the paper's table (reference rows rebuilt,
 * unprovided rows `missing`), refuses pieces that do not belong together, and `--check` fails while a row is
 * missing unless `--partial`. Built on synthetic result rows: no training, no GPU.
 */
import assert from "node:assert/strict";
import { formatResultsCsv, parseResultsCsv, type ResultRow, ResultsError } from "../src/harness/csv.ts";
import { runnableRows, wholeTable } from "../src/harness/merge.ts";
import { tableById, type Tier } from "../src/harness/tables/mod.ts";

const MNIST = tableById("mnist");
const FP = `train:${"a".repeat(64)} eval:${"b".repeat(64)}`;

/** A measured row of `table`, inside the smoke band (so `--check` passes it), finished at `finished`. */
function measured(
  id: string,
  o: { table?: string; tier?: Tier; metric?: string; ours?: number; fp?: string; finished?: string } = {},
): ResultRow {
  const table = tableById(o.table ?? "mnist");
  const def = table.rows.find((r) => r.id === id)!;
  return {
    table: table.id,
    row: def.label,
    model: "synthetic",
    dataset: `${table.dataset} train`,
    dataset_fingerprint: o.fp ?? FP,
    tier: o.tier ?? "smoke",
    metric: o.metric ?? `nll-${table.split}`,
    unit: table.unit,
    paper: def.paper,
    ours: o.ours ?? 100,
    tolerance: null,
    status: "not-comparable",
    steps: 8,
    images_seen: 32,
    wall_s: 1,
    adapter: "synthetic",
    git_commit: "abc1234",
    config: JSON.stringify(o.finished ? { finished_at: o.finished } : {}),
  };
}

const whole = (pieces: { file: string; rows: ResultRow[] }[], prefer?: "newest") =>
  wholeTable(MNIST, pieces, { prefer, commit: "abc1234" });

/** Asserts that `f` throws a one-line ResultsError matching `re`. */
function refuses(f: () => unknown, re: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof ResultsError, String(e));
    assert.match(e.message, re);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
}

Deno.test("merge: two pieces give every row of Table 4 in order; references rebuilt, the rest missing", () => {
  const a = measured("pixelcnn"), b = measured("row-lstm");
  const rows = whole([{ file: "a.csv", rows: [a] }, { file: "b.csv", rows: [b] }]);
  assert.deepEqual(rows.map((r) => r.row), MNIST.rows.map((r) => r.label));
  const status = Object.fromEntries(rows.map((r) => [r.row, r.status]));
  for (const def of MNIST.rows) {
    const expected = def.reference
      ? "reference"
      : ["pixelcnn", "row-lstm"].includes(def.id)
      ? "not-comparable"
      : "missing";
    assert.equal(status[def.label], expected, def.label);
  }
  assert.deepEqual(rows.find((r) => r.row === "PixelCNN"), a, "a provided row is kept as it is");
  const missing = rows.filter((r) => r.status === "missing");
  assert.deepEqual(missing.map((r) => r.row), [
    "Diagonal BiLSTM (1 layer, h = 32)",
    "Diagonal BiLSTM (7 layers, h = 16)",
  ]);
  for (const r of missing) {
    assert.equal(r.ours, null);
    assert.equal(r.tier, "smoke");
    assert.equal(r.paper, MNIST.rows.find((x) => x.label === r.row)!.paper);
  }
  const nade = rows.find((r) => r.row === "NADE")!;
  assert.deepEqual([nade.paper, nade.ours, nade.model], [88.33, null, "Uria et al. 2014"]);
  assert.deepEqual(
    parseResultsCsv(formatResultsCsv(rows), "merged"),
    rows,
    "the merged rows are a valid file",
  );
  // A merged file is itself a piece: its missing and reference rows provide nothing.
  const again = whole([{ file: "merged.csv", rows }, { file: "c.csv", rows: [measured("diagonal-1x32")] }]);
  assert.deepEqual(again.filter((r) => r.status === "missing").map((r) => r.row), [
    "Diagonal BiLSTM (7 layers, h = 16)",
  ]);
});

Deno.test("merge: the paper tier of Table 5 expects nll-train too; a piece without it leaves that missing", () => {
  const cifar = tableById("cifar10");
  const test = measured("pixelcnn", { table: "cifar10", tier: "paper", ours: 3.1 });
  const rows = wholeTable(cifar, [{ file: "p.csv", rows: [{ ...test, status: "pass", tolerance: 0.05 }] }], {
    commit: "x",
  });
  const pixelcnn = rows.filter((r) => r.row === "PixelCNN");
  assert.deepEqual(pixelcnn.map((r) => [r.metric, r.status, r.paper]), [
    ["nll-test", "pass", 3.14],
    ["nll-train", "missing", 3.08],
  ]);
  assert.equal(rows.filter((r) => r.status === "missing").length, 2 * runnableRows(cifar).length - 1);
});

Deno.test("merge refuses pieces of different tiers, other data, another table, an unknown row, a file twice", () => {
  const a = { file: "a.csv", rows: [measured("pixelcnn")] };
  refuses(
    () => whole([a, { file: "b.csv", rows: [measured("row-lstm", { tier: "quick", ours: 120 })] }]),
    /^b\.csv holds tier quick, a\.csv tier smoke: merge pieces of one tier$/,
  );
  refuses(
    () =>
      whole([a, { file: "b.csv", rows: [measured("row-lstm", { fp: `train:${"c".repeat(64)} eval:x` })] }]),
    /^b\.csv: Row LSTM nll-test ran on data train:cccccccccccc eval:x, a\.csv on train:aaaaaaaaaaaa eval:bbbbbbbbbbbb/,
  );
  refuses(
    () => whole([{ file: "c.csv", rows: [measured("pixelcnn", { table: "cifar10", ours: 3 })] }]),
    /^c\.csv: holds rows of table cifar10, not mnist$/,
  );
  refuses(
    () => whole([{ file: "d.csv", rows: [{ ...measured("pixelcnn"), row: "PixelCNN++" }] }]),
    /^d\.csv: "PixelCNN\+\+" is not a row of table mnist$/,
  );
  refuses(
    () => whole([{ file: "e.csv", rows: [{ ...measured("nade"), status: "not-comparable" }] }]),
    /^e\.csv: NADE \/ nll-test is not a result of mnist in tier smoke$/,
  );
  refuses(() => whole([a, a]), /^a\.csv is given twice$/);
  refuses(() => whole([{ file: "empty.csv", rows: [] }]), /no rows; name their tier with --tier/);
  assert.equal(
    wholeTable(MNIST, [{ file: "empty.csv", rows: [] }], { tier: "quick", commit: "x" }).length,
    14,
  );
});

Deno.test("merge refuses the same row twice unless --prefer newest, which keeps the later finished_at", () => {
  const early = measured("pixelcnn", { ours: 101, finished: "2026-01-02T03:04:05.000Z" });
  const late = measured("pixelcnn", { ours: 102, finished: "2026-01-02T03:04:06.000Z" });
  const old = measured("pixelcnn", { ours: 103 });
  const pieces = [{ file: "late.csv", rows: [late] }, { file: "early.csv", rows: [early] }];
  refuses(
    () => whole(pieces),
    /^PixelCNN is in both late\.csv and early\.csv: keep one, or pass --prefer newest$/,
  );
  const pick = (p: typeof pieces) => whole(p, "newest").find((r) => r.row === "PixelCNN")!.ours;
  assert.equal(pick(pieces), 102);
  assert.equal(pick([...pieces].reverse()), 102, "the order of the files does not matter");
  assert.equal(pick([{ file: "old.csv", rows: [old] }, { file: "early.csv", rows: [early] }]), 101);
  refuses(
    () => whole([{ file: "x.csv", rows: [late] }, { file: "y.csv", rows: [late] }], "newest"),
    /^PixelCNN is in both x\.csv and y\.csv, and neither finished later/,
  );
});

Deno.test("the results CSV refuses a missing row with a value in ours", () => {
  const row: ResultRow = { ...measured("pixelcnn"), status: "missing" };
  assert.throws(() => formatResultsCsv([row]), /status missing needs ours empty/);
  assert.equal(parseResultsCsv(formatResultsCsv([{ ...row, ours: null }]), "m.csv")[0].status, "missing");
});

async function repro(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "src/harness/cli/repro.ts", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The `repro:` error lines of a run's stderr. */
const errorLines = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("repro:"));

Deno.test("repro --merge writes the whole table and fails while rows are missing; --check likewise; --partial", async () => {
  const dir = await Deno.makeTempDir();
  const a = `${dir}/mnist.pixelcnn.csv`, b = `${dir}/mnist.row-lstm.csv`, out = `${dir}/mnist.csv`;
  await Deno.writeTextFile(a, formatResultsCsv([measured("pixelcnn")]));
  await Deno.writeTextFile(b, formatResultsCsv([measured("row-lstm")]));

  const m = await repro("mnist", "--merge", a, b, "--out", out);
  assert.equal(m.code, 1, m.stderr);
  assert.match(m.stderr, /mnist \/ Diagonal BiLSTM \(1 layer, h = 32\) \/ smoke \/ nll-test: missing/);
  assert.match(m.stderr, /2 row\(s\) fail or are missing/);
  const merged = parseResultsCsv(await Deno.readTextFile(out), out);
  assert.deepEqual(merged.map((r) => r.row), MNIST.rows.map((r) => r.label));
  assert.equal(merged.filter((r) => r.status === "missing").length, 2);

  const checked = await repro("mnist", "--check", "--out", out);
  assert.equal(checked.code, 1);
  assert.match(checked.stderr, /Diagonal BiLSTM \(7 layers, h = 16\) \/ smoke \/ nll-test: missing/);
  // A file that simply lacks rows (as merges made before missing rows existed) is not whole either.
  const checkedPiece = await repro("mnist", "--check", "--out", a);
  assert.equal(checkedPiece.code, 1);
  assert.match(checkedPiece.stderr, /3 row\(s\) fail or are missing/);

  const partial = await repro("mnist", "--merge", a, b, "--out", out, "--partial");
  assert.equal(partial.code, 0, partial.stderr);
  assert.match(partial.stderr, /every compared row passes; 2 row\(s\) missing \(--partial\)/);
  assert.equal((await repro("mnist", "--check", "--out", out, "--partial")).code, 0);

  const c = `${dir}/mnist.diagonal.csv`;
  await Deno.writeTextFile(c, formatResultsCsv([measured("diagonal-1x32"), measured("diagonal-7x16")]));
  const all = await repro("mnist", "--merge", a, b, c, "--out", out);
  assert.equal(all.code, 0, all.stderr);
  assert.equal((await repro("mnist", "--check", "--out", out)).code, 0);
});

Deno.test("repro --merge refusals are one line naming the files, and write nothing", async () => {
  const dir = await Deno.makeTempDir();
  const a = `${dir}/a.csv`, b = `${dir}/b.csv`, out = `${dir}/out.csv`;
  await Deno.writeTextFile(a, formatResultsCsv([measured("pixelcnn", { finished: "2026-01-01T00:00:00Z" })]));
  await Deno.writeTextFile(b, formatResultsCsv([measured("pixelcnn", { tier: "quick", ours: 120 })]));
  const tiers = await repro("mnist", "--merge", a, b, "--out", out);
  assert.equal(tiers.code, 1);
  assert.deepEqual(errorLines(tiers.stderr), [
    `repro: ${b} holds tier quick, ${a} tier smoke: merge pieces of one tier`,
  ]);

  await Deno.writeTextFile(
    b,
    formatResultsCsv([measured("pixelcnn", { ours: 99, finished: "2026-01-01T00:00:01Z" })]),
  );
  const twice = await repro("mnist", "--merge", a, b, "--out", out);
  assert.equal(twice.code, 1);
  assert.deepEqual(errorLines(twice.stderr), [
    `repro: PixelCNN is in both ${a} and ${b}: keep one, or pass --prefer newest`,
  ]);
  const absent = await repro("mnist", "--merge", a, `${dir}/nope.csv`, "--out", out);
  assert.deepEqual(errorLines(absent.stderr), [`repro: ${dir}/nope.csv: not found`]);
  assert.equal(absent.code, 1);
  await assert.rejects(Deno.stat(out), Deno.errors.NotFound, "a refused merge writes nothing");

  const newest = await repro("mnist", "--merge", a, b, "--out", out, "--prefer", "newest", "--partial");
  assert.equal(newest.code, 0, newest.stderr);
  assert.equal(
    parseResultsCsv(await Deno.readTextFile(out), out).find((r) => r.row === "PixelCNN")!.ours,
    99,
  );
  const badPrefer = await repro("mnist", "--merge", a, b, "--prefer", "oldest");
  assert.equal(badPrefer.code, 2);
  assert.deepEqual(errorLines(badPrefer.stderr), [`repro: --prefer takes "newest", with --merge`]);
});

Deno.test("repro --list-rows prints the runnable row ids one a line", async () => {
  const ids = ["pixelcnn", "row-lstm", "diagonal-1x32", "diagonal-7x16"];
  for (const args of [[], ["--tier", "smoke"], ["--tier", "paper"]]) {
    const r = await repro("mnist", "--list-rows", ...args);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split("\n"), ids);
  }
  assert.equal((await repro("mnist", "--list-rows", "--tier", "huge")).code, 2);
  assert.equal((await repro("imagenet32", "--list-rows")).stdout, "row-lstm-32\n");
});
