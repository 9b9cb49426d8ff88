/**
 * `deno task repro <table>`: reproduce one of the paper's tables into results/<table>.csv (and PNG
 * figures next to it), print paper vs ours side by side, and exit non-zero when a compared row fails.
 */
import { dirname, join } from "node:path";
import { adapterLine, type Gpu } from "../../engine/device.ts";
import { formatResultsCsv, readResultsFile, type ResultRow } from "../csv.ts";
import { writeFileAtomic } from "../atomic.ts";
import { readTableCurves } from "../curves.ts";
import { writeFigures } from "../paper_figures.ts";
import { writeReport } from "../report/build.ts";
import { runnableRows, wholeTable } from "../merge.ts";
import {
  plannedSizes,
  projectionTable,
  projectRow,
  refusal,
  type RowProjection,
  rowWork,
} from "../estimate.ts";
import { probeOutputs } from "../probe.ts";
import { checkpointPath, gitCommit, judge, reproTable } from "../repro.ts";
import { keepAside, readResultsOrNone, updateResultsFile } from "../results_update.ts";
import { type PaperTable, tableById, TABLES, type Tier } from "../tables/mod.ts";
import {
  decimal,
  device,
  parseCli,
  positiveInt,
  runMain,
  StopSignal,
  textTable,
  UsageError,
} from "./common.ts";

const HELP = `usage: deno task repro <table> [options]

Trains and evaluates every runnable row of a paper table, writes results/<table>.csv and, next to it, the
table's learning curves (<table>-<tier>-curves.csv), its figures and the report page (index.html).

tables: ${TABLES.map((t) => t.id).join(", ")}

options:
  --tier T          smoke (seconds), quick (minutes on a software adapter) or paper (the paper's
                    configuration, for a real GPU); default quick on a software adapter, paper on a GPU
  --data DIR        dataset directory (CIFAR-10 binary batches; downsampled ImageNet with train and
                    valid sets); MNIST uses the bundled files unless DIR holds the .amat(.gz) files
  --allow-subset    accept a CIFAR-10 directory holding fewer records (results are labelled subset)
  --rows A,B        run only these row ids (one job of a table spread over machines)
  --out FILE        results file (default results/<table>.csv, or results/<table>.<rows>.csv with --rows)
  --merge F1 F2 ... combine results files of separate --rows jobs into --out (default
                    results/<table>.csv), then check it like --check; the output holds every row of the
                    table, rows no file provides marked missing
  --prefer newest   with --merge: of two files holding the same row, keep the row that finished last
                    (config.finished_at); without it the same row twice is refused
  --check           re-check an existing results file (--out) against the table without training; fails
                    when a row fails or is missing
  --partial         with --merge and --check: missing rows do not fail
  --list-rows       print the ids of the table's runnable rows, one a line (for job arrays), and exit
  --seed N          model and data-order seed (default 1)
  --steps N         training steps per row instead of the tier's
  --checkpoints DIR where each row's checkpoint goes (default runs/)
  --resume          continue rows from their checkpoints
  --checkpoint-minutes M
                    also write each row's checkpoint every M minutes of wall clock
  --until-step N    stop each row at step N with a checkpoint, as Ctrl-C does (continue with --resume)
  --estimate        time a few training steps and evaluation batches of each row on this adapter and
                    print the projected wall time of the tier's training and evaluation; trains
                    nothing else and writes nothing
  --yes             start a paper-tier run projected over 7 days (every run prints its projection first)
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

/** Prints the projection of each row (see estimate.ts) with `print`. */
function printProjection(list: RowProjection[], print: (line: string) => void): void {
  const { rows, notes } = projectionTable(list);
  print(textTable(rows));
  for (const n of notes) print(n);
}

/** --estimate: times each selected row and prints its projection; loads no data and writes nothing. */
async function estimate(
  gpu: Gpu,
  table: PaperTable,
  tier: Tier,
  rows?: string[],
  steps?: number,
): Promise<number> {
  console.log(`estimate of ${table.id} (${table.title}), tier ${tier}, on ${adapterLine(gpu.summary)}`);
  const list: RowProjection[] = [];
  for (const row of runnableRows(table, tier).filter((r) => !rows || rows.includes(r.id))) {
    const run = row.tiers![tier];
    const work = rowWork(table, row, tier, plannedSizes(table, run, tier), steps ?? run.steps);
    list.push(await projectRow(gpu, row, tier, work, true));
  }
  printProjection(list, console.log);
  return 0;
}

function tierArg(v: string): Tier {
  if (!["smoke", "quick", "paper"].includes(v)) throw new UsageError(`unknown tier ${JSON.stringify(v)}`);
  return v as Tier;
}

/**
 * Re-judges the rows of a whole table (see wholeTable) against the table's definitions; returns the
 * failures, missing rows among them unless `partial`.
 */
function recheck(table: PaperTable, rows: ResultRow[], partial: boolean): string[] {
  const failures: string[] = [];
  for (const r of rows) {
    if (r.status === "reference") continue;
    if (r.status === "missing") {
      if (!partial) failures.push(`${r.table} / ${r.row} / ${r.tier} / ${r.metric}: missing`);
      continue;
    }
    // wholeTable let through only results of the table's runnable rows.
    const row = table.rows.find((x) => x.label === r.row)!;
    const paper = r.metric === "nll-train" ? row.paperTrain! : row.paper;
    const status = judge(r.tier, row.tiers![r.tier], paper, r.ours!);
    if (status !== r.status) {
      failures.push(`${r.table} / ${r.row} / ${r.tier}: file says ${r.status}, the table says ${status}`);
    } else if (status === "fail") {
      failures.push(`${r.table} / ${r.row} / ${r.tier} / ${r.metric}: ${r.ours} outside`);
    }
  }
  return failures;
}

/** Prints a whole table and its failures; the exit code (1 when a row fails, or is missing unless partial). */
function judgeTable(table: PaperTable, rows: ResultRow[], partial: boolean): number {
  printComparison(rows);
  const failures = recheck(table, rows, partial);
  for (const f of failures) console.error(f);
  const missing = rows.filter((r) => r.status === "missing").length;
  console.error(
    failures.length
      ? `${failures.length} row(s) fail or are missing`
      : `every compared row passes${missing ? `; ${missing} row(s) missing (--partial)` : ""}`,
  );
  return failures.length ? 1 : 0;
}

interface TableFileOptions {
  tier?: Tier;
  prefer?: "newest";
  partial: boolean;
}

/** --merge: combines `files` into the whole table at `out`, then judges it. */
async function merge(table: PaperTable, files: string[], out: string, o: TableFileOptions): Promise<number> {
  const pieces = await Promise.all(files.map(async (file) => ({ file, rows: await readResultsFile(file) })));
  const merged = wholeTable(table, pieces, { ...o, commit: await gitCommit() });
  await writeFileAtomic(out, formatResultsCsv(merged));
  console.error(`wrote ${out}`);
  return judgeTable(table, merged, o.partial);
}

/** --check: judges the file at `path` as a whole table, each tier it holds (or `o.tier`) separately. */
async function check(table: PaperTable, path: string, o: TableFileOptions): Promise<number> {
  const found = await readResultsFile(path);
  const tiers = o.tier ? [o.tier] : [...new Set(found.map((r) => r.tier))];
  const commit = await gitCommit();
  // No tiers (an empty file) still goes through wholeTable, which then asks for --tier.
  const whole = (tiers.length ? tiers : [undefined]).flatMap((tier) =>
    wholeTable(table, [{ file: path, rows: found.filter((r) => r.tier === tier) }], { tier, commit })
  );
  return judgeTable(table, whole, o.partial);
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
      prefer: { type: "string" },
      check: { type: "boolean" },
      partial: { type: "boolean" },
      "list-rows": { type: "boolean" },
      seed: { type: "string" },
      steps: { type: "string" },
      checkpoints: { type: "string" },
      resume: { type: "boolean" },
      "checkpoint-minutes": { type: "string" },
      "until-step": { type: "string" },
      estimate: { type: "boolean" },
      yes: { type: "boolean" },
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
  const unknown = rows?.filter((id) => !table.rows.some((r) => r.id === id)) ?? [];
  if (unknown.length) {
    throw new UsageError(
      `${table.id} has no row ${unknown.join(", ")}; its rows: ${table.rows.map((r) => r.id).join(", ")}`,
    );
  }
  const out = a.out ?? (rows ? `results/${table.id}.${rows.join("+")}.csv` : `results/${table.id}.csv`);
  const tierOption = a.tier === undefined ? undefined : tierArg(a.tier);

  if (a["list-rows"]) {
    console.log(runnableRows(table, tierOption).map((r) => r.id).join("\n"));
    return 0;
  }
  if (a.prefer !== undefined && (a.prefer !== "newest" || !a.merge)) {
    throw new UsageError(`--prefer takes "newest", with --merge`);
  }
  if (a.merge || a.check) {
    const o = { tier: tierOption, prefer: a.prefer as "newest" | undefined, partial: a.partial ?? false };
    const files = positionals.slice(1);
    if (a.merge && !files.length) throw new UsageError("--merge needs the results files to combine");
    return a.merge
      ? await merge(table, files, a.out ?? `results/${table.id}.csv`, o)
      : await check(table, out, o);
  }

  const stop = new StopSignal();
  const seed = positiveInt("seed", a.seed, 1);
  const steps = a.steps ? positiveInt("steps", a.steps) : undefined;
  const checkpointDir = a.checkpoints ?? "runs";
  const untilStep = a["until-step"] ? positiveInt("until-step", a["until-step"]) : undefined;
  const minutes = a["checkpoint-minutes"];
  const checkpointSeconds = minutes === undefined
    ? undefined
    : 60 * decimal("checkpoint-minutes", minutes, "a positive number of minutes", (x) => x > 0);
  const gpu = await device();
  const tier = tierOption ?? (gpu.isFallback ? "quick" : "paper");
  if (a.estimate) return await estimate(gpu, table, tier, rows, steps);
  // The curves, figures and report page go next to the results file.
  const dir = dirname(out);
  const curves = join(dir, `${table.id}-${tier}-curves.csv`);
  const page = join(dir, "index.html");
  // Every place this run writes, and the files it will update, checked before any training.
  const checkpoints = table.rows.filter((r) => r.tiers && (!rows || rows.includes(r.id)))
    .map((r) => checkpointPath(checkpointDir, table, r, tier));
  await probeOutputs([out, curves, page, ...checkpoints]);
  await readResultsOrNone(out);
  await readTableCurves(curves);
  const figures = !a["no-figures"] && tier !== "smoke";
  // Samples per row: 64 binary images, 16 RGB ones (issue 9); completions as in Fig. 1.
  const figureCounts = (binary: boolean) => ({
    samples: binary ? 64 : 16,
    ...(tier === "paper" ? { completed: 6, completions: 5 } : { completed: 3, completions: 2 }),
  });
  const log = (s: string) => console.error(s);
  log(`repro ${table.id} (${table.title}), tier ${tier}, on ${gpu.summary.description}`);
  /** The rows computed so far, kept aside when the run fails before they reach `out`. */
  const computed: ResultRow[] = [];
  let result;
  try {
    result = await reproTable({
      gpu,
      table,
      tier,
      rows,
      seed,
      steps,
      data: a.data,
      allowSubset: a["allow-subset"],
      checkpointDir,
      curves,
      resume: a.resume,
      shouldStop: stop.requested,
      untilStep,
      checkpointSeconds,
      project: (list) => {
        printProjection(list, log);
        const why = refusal(table.id, tier, list, a.yes ?? false);
        if (why) throw new UsageError(why);
      },
      log,
      onResult: (r) => computed.push(r),
      afterRow: async (row, _run, model, data) => {
        if (!figures) return;
        const counts = { ...figureCounts(model.config.output === "binary"), label: `  ${row.id}` };
        const paths = await writeFigures(
          model,
          data.eval,
          join(dir, `${table.id}-${tier}-${row.id}`),
          counts,
          seed,
        );
        log(`  figures: ${paths.join(", ")}`);
      },
    });
    await updateResultsFile(out, result.rows);
  } catch (e) {
    if (e instanceof Error && computed.some((r) => r.status !== "reference")) {
      e.message += `; ${await keepAside(out, computed)}`;
    }
    throw e;
  }
  printComparison(result.rows);
  log(`wrote ${out}`);
  await writeReport(dir, { log });
  // Stopped by a signal: its exit code; at --until-step: done as asked.
  if (result.interrupted) return stop.requested() ? stop.exitCode : 0;
  return result.failed ? 1 : 0;
}

if (import.meta.main) await runMain("repro", main);
