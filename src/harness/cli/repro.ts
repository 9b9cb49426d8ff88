/**
 * `deno task repro <table>`: reproduce one of the paper's tables into results/<table>.csv (and PNG
 * figures next to it), print paper vs ours side by side, and exit non-zero when a compared row fails.
 */
import { formatResultsCsv, mergeResults, parseResultsCsv, type ResultRow, rowKey } from "../csv.ts";
import { writeFileAtomic } from "../atomic.ts";
import { writeFigures } from "../paper_figures.ts";
import { judge, reproTable } from "../repro.ts";
import { tableById, TABLES, type Tier } from "../tables/mod.ts";
import { device, parseCli, positiveInt, runMain, stopOnCtrlC, textTable, UsageError } from "./common.ts";

const HELP = `usage: deno task repro <table> [options]

Trains and evaluates every runnable row of a paper table, writes results/<table>.csv and figures.

tables: ${TABLES.map((t) => t.id).join(", ")}

options:
  --tier T          smoke (seconds), quick (minutes on a software adapter) or paper (the paper's
                    configuration, for a real GPU); default quick on a software adapter, paper on a GPU
  --data DIR        dataset directory (CIFAR-10 binary batches; downsampled ImageNet with train and
                    valid sets); MNIST uses the bundled files unless DIR holds the .amat(.gz) files
  --allow-subset    accept a CIFAR-10 directory holding fewer records (results are labelled subset)
  --rows A,B        run only these row ids (one job of a table spread over machines)
  --out FILE        results file (default results/<table>.csv, or results/<table>.<rows>.csv with --rows)
  --merge F1 F2 ... combine results files of separate --rows jobs into --out, then check them
  --check           re-check an existing results file against the table without training
  --seed N          model and data-order seed (default 1)
  --steps N         training steps per row instead of the tier's
  --checkpoints DIR where each row's checkpoint goes (default runs/)
  --resume          continue rows from their checkpoints
  --no-figures      skip samples, completions and softmax figures
  --help            this text

Rows are compared with the paper only in the paper tier; smoke and quick rows are checked against the
tier's own band and reported as not-comparable.`;

function printComparison(rows: ResultRow[]): void {
  const head = ["row", "metric", "tier", "paper", "ours", "unit", "status"];
  const body = rows.map((r) => [
    r.row,
    r.metric,
    r.tier,
    r.paper === null ? "" : String(r.paper),
    r.ours === null ? "" : r.ours.toFixed(r.unit === "nats" ? 2 : 3),
    r.unit,
    r.status,
  ]);
  console.log(textTable([head, ...body]));
}

/** Updates `path` with `rows`, replacing rows of the same table/row/tier/metric. */
async function writeResults(path: string, rows: ResultRow[]): Promise<void> {
  let old: ResultRow[] = [];
  try {
    old = parseResultsCsv(await Deno.readTextFile(path), path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const fresh = new Set(rows.map(rowKey));
  const kept = old.filter((r) => !fresh.has(rowKey(r)));
  await writeFileAtomic(path, formatResultsCsv(mergeResults([kept, rows])));
}

/** Re-judges result rows against the table definitions; returns the failures. */
function recheck(rows: ResultRow[]): string[] {
  const failures: string[] = [];
  for (const r of rows) {
    if (r.status === "reference") continue;
    const table = tableById(r.table);
    const row = table.rows.find((x) => x.label === r.row);
    if (!row?.tiers) {
      failures.push(`${r.table} / ${r.row}: no such runnable row`);
      continue;
    }
    const paper = r.metric === "nll-train" ? row.paperTrain! : row.paper;
    const status = judge(r.tier, row.tiers[r.tier], paper, r.ours!);
    if (status !== r.status) {
      failures.push(`${r.table} / ${r.row} / ${r.tier}: file says ${r.status}, the table says ${status}`);
    } else if (status === "fail") {
      failures.push(`${r.table} / ${r.row} / ${r.tier} / ${r.metric}: ${r.ours} outside`);
    }
  }
  return failures;
}

async function main(): Promise<number> {
  const { values: a, positionals } = parseCli({
    allowPositionals: true,
    options: {
      tier: { type: "string" },
      data: { type: "string" },
      "allow-subset": { type: "boolean" },
      rows: { type: "string" },
      out: { type: "string" },
      merge: { type: "boolean" },
      check: { type: "boolean" },
      seed: { type: "string" },
      steps: { type: "string" },
      checkpoints: { type: "string" },
      resume: { type: "boolean" },
      "no-figures": { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (a.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length < 1) throw new UsageError("name a table");
  let table;
  try {
    table = tableById(positionals[0]);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const rows = a.rows?.split(",").map((s) => s.trim()).filter(Boolean);
  const out = a.out ?? (rows ? `results/${table.id}.${rows.join("+")}.csv` : `results/${table.id}.csv`);

  if (a.merge) {
    const files = positionals.slice(1);
    if (!files.length) throw new UsageError("--merge needs the results files to combine");
    const lists = await Promise.all(files.map(async (f) => parseResultsCsv(await Deno.readTextFile(f), f)));
    const merged = mergeResults(lists);
    await writeFileAtomic(a.out ?? `results/${table.id}.csv`, formatResultsCsv(merged));
    printComparison(merged);
    return recheck(merged).length ? 1 : 0;
  }
  if (a.check) {
    const found = parseResultsCsv(await Deno.readTextFile(out), out);
    printComparison(found);
    const failures = recheck(found);
    for (const f of failures) console.error(f);
    console.error(failures.length ? `${failures.length} row(s) fail` : "every compared row passes");
    return failures.length ? 1 : 0;
  }

  const gpu = await device();
  const tier = (a.tier ?? (gpu.isFallback ? "quick" : "paper")) as Tier;
  if (!["smoke", "quick", "paper"].includes(tier)) {
    throw new UsageError(`unknown tier ${JSON.stringify(tier)}`);
  }
  const seed = positiveInt("seed", a.seed, 1);
  const figures = !a["no-figures"] && tier !== "smoke";
  const figureCounts = tier === "paper"
    ? { samples: 64, completed: 6, completions: 5 }
    : { samples: 8, completed: 3, completions: 2 };
  const runnable = table.rows.filter((r) => r.tiers && (!rows || rows.includes(r.id)));
  const figureRow = runnable.at(-1)?.id;
  const log = (s: string) => console.error(s);
  log(`repro ${table.id} (${table.title}), tier ${tier}, on ${gpu.summary.description}`);
  const result = await reproTable({
    gpu,
    table,
    tier,
    rows,
    seed,
    steps: a.steps ? positiveInt("steps", a.steps) : undefined,
    data: a.data,
    allowSubset: a["allow-subset"],
    checkpointDir: a.checkpoints ?? "runs",
    resume: a.resume,
    shouldStop: stopOnCtrlC(),
    log,
    afterRow: async (row, _run, model, data) => {
      if (!figures || row.id !== figureRow) return;
      const paths = await writeFigures(model, data.eval, `results/${table.id}-${tier}`, figureCounts, seed);
      log(`  figures: ${paths.join(", ")}`);
    },
  });
  await Deno.mkdir("results", { recursive: true });
  await writeResults(out, result.rows);
  printComparison(result.rows);
  log(`wrote ${out}`);
  if (result.interrupted) return 130;
  return result.failed ? 1 : 0;
}

if (import.meta.main) await runMain("repro", main);
