/**
 * Whole tables from pieces: the results files of separate `repro --rows` jobs (one per machine or Slurm
 * array task) become one file holding every row of the paper's table, in the table's order. Reference rows
 * are rebuilt from the table; a runnable row (or metric) that no piece provides is a `missing` row with
 * empty `ours`. Pieces that cannot belong together are refused: another table, another tier, other data
 * (dataset fingerprints), or the same row twice (unless the newest is preferred).
 */
import { type ResultRow, ResultsError } from "./csv.ts";
import { describeModel, referenceRow, rowMetrics } from "./repro.ts";
import type { PaperTable, TableRow, Tier } from "./tables/mod.ts";

/** One results file's rows. */
export interface Piece {
  file: string;
  rows: ResultRow[];
}

export interface WholeTableOptions {
  /** The tier to expect; by default the pieces' own (they must agree). */
  tier?: Tier;
  /**
   * "newest": of two pieces with the same row, keep the one whose row finished last (config.finished_at,
   * written when the row's evaluation ended; a row without it is older than any with it).
   */
  prefer?: "newest";
  /** git_commit of the rows the merge writes itself (reference and missing rows). */
  commit: string;
}

/** The rows of `table` that run in `tier` (every tier when absent), in table order. */
export function runnableRows(table: PaperTable, tier?: Tier): TableRow[] {
  return table.rows.filter((r) => r.tiers && (!tier || r.tiers[tier]));
}

/** The tier all pieces share (or `wanted`); refuses pieces of different tiers. */
function commonTier(pieces: readonly Piece[], wanted: Tier | undefined): Tier {
  let first: { tier: Tier; file: string } | undefined = wanted && { tier: wanted, file: "--tier" };
  for (const { file, rows } of pieces) {
    for (const r of rows) {
      first ??= { tier: r.tier, file };
      if (r.tier !== first.tier) {
        throw new ResultsError(
          `${file} holds tier ${r.tier}, ${first.file} tier ${first.tier}: merge pieces of one tier`,
        );
      }
    }
  }
  if (!first) throw new ResultsError("the pieces hold no rows; name their tier with --tier");
  return first.tier;
}

/** Refuses rows of another table, labels the table does not have, and metrics the row does not report. */
function checkBelongs(table: PaperTable, tier: Tier, { file, rows }: Piece): void {
  for (const r of rows) {
    if (r.table !== table.id) {
      throw new ResultsError(`${file}: holds rows of table ${r.table}, not ${table.id}`);
    }
    const def = table.rows.find((x) => x.label === r.row);
    if (!def) throw new ResultsError(`${file}: ${JSON.stringify(r.row)} is not a row of table ${table.id}`);
    if (r.status === "reference" || r.status === "missing") continue;
    if (!def.tiers || !rowMetrics(table, def, tier).some((m) => m.metric === r.metric)) {
      throw new ResultsError(
        `${file}: ${r.row} / ${r.metric} is not a result of ${table.id} in tier ${tier}`,
      );
    }
  }
}

/** First 12 hex digits of each hash in a fingerprint ("train:<hex> eval:<hex>"). */
function shortFingerprint(fp: string): string {
  return fp.replace(/[0-9a-f]{12,}/g, (h) => h.slice(0, 12));
}

/** Refuses measured rows of one metric trained or evaluated on different data. */
function checkSameData(measured: readonly { file: string; row: ResultRow }[]): void {
  const first = new Map<string, { file: string; fp: string }>();
  for (const { file, row } of measured) {
    const seen = first.get(row.metric);
    if (!seen) {
      first.set(row.metric, { file, fp: row.dataset_fingerprint });
    } else if (seen.fp !== row.dataset_fingerprint) {
      throw new ResultsError(
        `${file}: ${row.row} ${row.metric} ran on data ${shortFingerprint(row.dataset_fingerprint)}, ` +
          `${seen.file} on ${shortFingerprint(seen.fp)}: merge pieces made from the same dataset files`,
      );
    }
  }
}

/** When a row finished (ms since 1970), or -Infinity for rows written before finished_at existed. */
function finishedAt(rows: readonly ResultRow[]): number {
  const times = rows.map((r) => Date.parse(JSON.parse(r.config).finished_at ?? ""));
  const known = times.filter((t) => Number.isFinite(t));
  return known.length ? Math.max(...known) : -Infinity;
}

/** For each table row, the piece that provides it (refusing duplicates unless `prefer`). */
function choosePieces(
  measured: readonly { file: string; row: ResultRow }[],
  prefer: WholeTableOptions["prefer"],
): Map<string, { file: string; rows: ResultRow[] }> {
  const byLabel = new Map<string, Map<string, ResultRow[]>>();
  for (const { file, row } of measured) {
    const files = byLabel.get(row.row) ?? new Map<string, ResultRow[]>();
    files.set(file, [...files.get(file) ?? [], row]);
    byLabel.set(row.row, files);
  }
  const chosen = new Map<string, { file: string; rows: ResultRow[] }>();
  for (const [label, files] of byLabel) {
    const candidates = [...files].map(([file, rows]) => ({ file, rows, at: finishedAt(rows) }));
    if (candidates.length > 1 && prefer !== "newest") {
      const [a, b] = candidates;
      throw new ResultsError(
        `${label} is in both ${a.file} and ${b.file}: keep one, or pass --prefer newest`,
      );
    }
    candidates.sort((a, b) => b.at - a.at);
    const [newest, next] = candidates;
    if (next && !(newest.at > next.at)) {
      throw new ResultsError(
        `${label} is in both ${newest.file} and ${next.file}, and neither finished later (config.finished_at)`,
      );
    }
    chosen.set(label, newest);
  }
  return chosen;
}

function missingRow(
  table: PaperTable,
  row: TableRow,
  tier: Tier,
  metric: string,
  paper: number,
  commit: string,
): ResultRow {
  const run = row.tiers![tier];
  return {
    table: table.id,
    row: row.label,
    model: describeModel(run),
    dataset: table.dataset,
    dataset_fingerprint: "",
    tier,
    metric,
    unit: table.unit,
    paper,
    ours: null,
    tolerance: tier === "paper" ? run.tolerance! : null,
    status: "missing",
    steps: null,
    images_seen: null,
    wall_s: null,
    adapter: "",
    git_commit: commit,
    config: "{}",
  };
}

/**
 * Every row of `table` for one tier, from `pieces`: their measured rows as they are, reference rows rebuilt
 * from the table, and a `missing` row for each runnable row and metric no piece provides. Reference and
 * missing rows in the pieces are ignored, so a merged file can itself be a piece. Throws a ResultsError
 * (one line, naming the files) when pieces do not belong together.
 */
export function wholeTable(table: PaperTable, pieces: readonly Piece[], o: WholeTableOptions): ResultRow[] {
  const twice = pieces.find((p, i) => pieces.findIndex((q) => q.file === p.file) < i);
  if (twice) throw new ResultsError(`${twice.file} is given twice`);
  const tier = commonTier(pieces, o.tier);
  for (const p of pieces) checkBelongs(table, tier, p);
  const measured = pieces.flatMap(({ file, rows }) =>
    rows.filter((r) => r.status !== "reference" && r.status !== "missing").map((row) => ({ file, row }))
  );
  checkSameData(measured);
  const chosen = choosePieces(measured, o.prefer);
  return table.rows.flatMap((row) => {
    if (!row.tiers) return [referenceRow(table, row, tier, "", o.commit)];
    const provided = chosen.get(row.label)?.rows ?? [];
    return rowMetrics(table, row, tier).map(({ metric, paper }) =>
      provided.find((r) => r.metric === metric) ?? missingRow(table, row, tier, metric, paper, o.commit)
    );
  });
}
