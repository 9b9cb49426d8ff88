import assert from "node:assert/strict";
import {
  formatResultsCsv,
  mergeResults,
  parseResultsCsv,
  RESULT_COLUMNS,
  type ResultRow,
} from "../src/harness/csv.ts";

function row(over: Partial<ResultRow> = {}): ResultRow {
  return {
    table: "table4",
    row: "Diagonal BiLSTM (1 layer, h = 32)",
    model: "diagonal-bilstm",
    dataset: "binarized-mnist",
    dataset_fingerprint: "sha256:abc123",
    tier: "paper",
    metric: "nll",
    unit: "nats",
    paper: 79.2,
    ours: 79.35,
    tolerance: 0.5,
    status: "pass",
    steps: 20000,
    images_seen: 320000,
    wall_s: 3600.5,
    adapter: "NVIDIA H200 (vulkan)",
    git_commit: "0123abcd",
    config: '{"h":32,"layers":1}',
    ...over,
  };
}

function reference(over: Partial<ResultRow> = {}): ResultRow {
  return row({
    row: "DBN 2hl",
    model: "",
    paper: 84.55,
    ours: null,
    tolerance: null,
    status: "reference",
    steps: null,
    images_seen: null,
    wall_s: null,
    adapter: "",
    git_commit: "",
    config: "{}",
    ...over,
  });
}

const HEADER = RESULT_COLUMNS.join(",");

/** A CSV line with the given cells, for hand-made bad files. */
function line(r: ResultRow, over: Partial<Record<string, string>> = {}): string {
  return RESULT_COLUMNS.map((c) => over[c] ?? (r[c] === null ? "" : String(r[c]))).map((v) =>
    /[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v
  ).join(",");
}

function rejects(text: string, pattern: RegExp): void {
  assert.throws(() => parseResultsCsv(text, "results/table4.csv"), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.match(e.message, /^results\/table4\.csv: /);
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("results CSV: header first, fixed column order, empty cells for nulls", () => {
  const text = formatResultsCsv([row(), reference()]);
  const lines = text.split("\n");
  assert.equal(lines[0], HEADER);
  assert.equal(
    lines[2],
    "table4,DBN 2hl,,binarized-mnist,sha256:abc123,paper,nll,nats,84.55,,,reference,,,,,,{}",
  );
  assert.equal(text.endsWith("\n"), true);
});

Deno.test("results CSV round-trips commas, quotes and newlines in config and other text", () => {
  const rows = [
    row({ config: '{\n  "note": "a, \\"quoted\\" value",\n  "list": [1, 2]\n}' }),
    row({ row: 'Row LSTM, "big"', config: JSON.stringify({ text: 'line1\nline2\r\nline3\rend, "q"' }) }),
    row({
      row: "PixelCNN",
      tier: "quick",
      status: "not-comparable",
      paper: null,
      tolerance: 1e-7,
      wall_s: 0.125,
    }),
    reference(),
  ];
  const back = parseResultsCsv(formatResultsCsv(rows), "mem.csv");
  assert.deepEqual(back, rows);
  assert.deepEqual(parseResultsCsv(formatResultsCsv(back), "mem.csv"), rows);
});

Deno.test("results CSV parsing accepts CRLF line ends, a BOM and no trailing newline", () => {
  const text = "\ufeff" + [HEADER, line(row()), line(reference())].join("\r\n");
  assert.deepEqual(parseResultsCsv(text, "x.csv"), [row(), reference()]);
});

Deno.test("results CSV parsing rejects malformed files, naming the file and line", () => {
  const r = row();
  const body = (over: Partial<Record<string, string>>) =>
    `${HEADER}\n${line(r)}\n${line(row({ row: "other" }), over)}\n`;
  rejects("", /empty file/);
  rejects(HEADER.replace("ours", "our") + "\n", /line 1: bad header: column 10 is "our", expected "ours"/);
  rejects(HEADER.replace(",config", "") + "\n", /line 1: bad header: column 18 is "", expected "config"/);
  rejects(HEADER + ",extra\n", /line 1: bad header: 19 columns, expected 18/);
  rejects(`${HEADER}\n${line(r).replace(/,[^,]*$/, "")}\n`, /line 2/);
  rejects(`${HEADER}\n"bad"quote,${line(r)}\n`, /Invalid Closing Quote.* at line 2/);
  rejects(`${HEADER}\n${line(r)}\ntable4,"unclosed\n`, /Quote Not Closed/);
  rejects(body({ status: "ok" }), /line 3: status "ok" is not one of pass, fail, reference, not-comparable/);
  rejects(body({ tier: "full" }), /line 3: tier "full" is not one of smoke, quick, paper/);
  rejects(body({ ours: "abc" }), /line 3: ours "abc" is not a number/);
  rejects(body({ paper: "1,5" }), /line 3: paper "1,5" is not a number/);
  rejects(body({ wall_s: "Infinity" }), /line 3: wall_s "Infinity" is not a number/);
  rejects(body({ tolerance: " 0.5" }), /line 3: tolerance " 0.5" is not a number/);
  rejects(body({ steps: "1.5" }), /line 3: steps "1.5" is not an integer/);
  rejects(body({ images_seen: "-3" }), /line 3: images_seen -3 is not a non-negative integer/);
  rejects(body({ ours: "" }), /line 3: status pass needs a value in ours/);
  rejects(body({ config: "{oops" }), /line 3: config is not valid JSON/);
  rejects(body({ table: "" }), /line 3: table is empty/);
  rejects(
    body({ row: r.row }),
    /line 3: duplicate row table4 \/ Diagonal BiLSTM \(1 layer, h = 32\) \/ paper/,
  );
  // A multi-line record: the error names the line where the bad record starts.
  const multi = line(row({ row: "m", config: '{\n"a": 1\n}' }));
  rejects(`${HEADER}\n${multi}\n${line(r, { status: "?" })}\n`, /line 5: status "\?"/);
});

Deno.test("formatResultsCsv refuses rows it could not read back", () => {
  assert.throws(() => formatResultsCsv([row({ ours: NaN })]), /row 1 .*ours NaN is not a finite number/);
  assert.throws(() => formatResultsCsv([row({ steps: 2.5 })]), /steps 2\.5 is not a non-negative integer/);
  assert.throws(() => formatResultsCsv([row({ config: "" })]), /config is not valid JSON/);
  assert.throws(() => formatResultsCsv([row(), row()]), /row 2 .*duplicate row/);
});

Deno.test("mergeResults unites lists by table+row+tier+metric and sorts by table, keeping first-seen order", () => {
  const t5a = row({ table: "table5", row: "PixelCNN", dataset: "cifar10", unit: "bits/dim" });
  const t5b = row({ table: "table5", row: "Row LSTM", dataset: "cifar10", unit: "bits/dim" });
  const t4smoke = row({ tier: "smoke" });
  const merged = mergeResults([[t5b, row()], [reference(), t5a, row(), t4smoke], [t5b]]);
  assert.deepEqual(merged, [row(), reference(), t4smoke, t5b, t5a]);
  assert.deepEqual(mergeResults([]), []);
});

Deno.test("mergeResults rejects the same key with different content, naming key and columns", () => {
  assert.throws(
    () => mergeResults([[row()], [row({ ours: 80, wall_s: 1 })]]),
    /^Error: mergeResults: table4 \/ Diagonal BiLSTM \(1 layer, h = 32\) \/ paper \/ nll appears twice with different ours, wall_s$/,
  );
});
