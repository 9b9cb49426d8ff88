/**
 * Learning-curve files: `runs/<name>.curve.csv` (one training run) and `results/<table>-<tier>-curves.csv`
 * (every row of a table, with a leading `row` column holding the table row id). One line per logging
 * interval; `train_loss` is the mean since the previous line, in the table's unit; `valid_nll` is empty
 * where no validation ran.
 *
 * Parsing is forgiving so a report can show what is readable: a bad line is left out and described in
 * `problems`, one line each, naming the file and line.
 */
import { parse } from "csv-parse/sync";

/** Columns of a run's curve file, in file order. */
export const RUN_CURVE_COLUMNS = ["step", "images_seen", "wall_s", "train_loss", "lr", "valid_nll"] as const;

/** Columns of a table's curve file, in file order. */
export const TABLE_CURVE_COLUMNS = ["row", ...RUN_CURVE_COLUMNS] as const;

/** One logging interval. */
export interface CurvePoint {
  step: number;
  images_seen: number;
  wall_s: number;
  train_loss: number;
  lr: number;
  /** null where no validation ran at this line. */
  valid_nll: number | null;
}

/** One logging interval of one row of a table. */
export interface TableCurvePoint extends CurvePoint {
  /** The table row id, e.g. "diagonal-7x16". */
  row: string;
}

export interface Parsed<T> {
  points: T[];
  /** One line each: "<source>: line N: what is wrong". */
  problems: string[];
}

interface ParsedRecord {
  record: string[];
  info: { lines: number };
}

const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;
const COUNTS = ["step", "images_seen"] as const;
const REALS = ["wall_s", "train_loss", "lr"] as const;

/** A finite number, or a description of what is wrong with the cell. */
function real(cell: string, column: string): number | string {
  const v = Number(cell);
  return NUMBER.test(cell) && Number.isFinite(v) ? v : `${column} ${JSON.stringify(cell)} is not a number`;
}

function toNumbers(cells: Record<string, string>): CurvePoint | string {
  const point: Record<string, number | null> = {};
  for (const c of COUNTS) {
    const v = real(cells[c], c);
    if (typeof v === "string" || !Number.isSafeInteger(v) || v < 0) {
      return `${c} ${JSON.stringify(cells[c])} is not a non-negative integer`;
    }
    point[c] = v;
  }
  for (const c of REALS) {
    const v = real(cells[c], c);
    if (typeof v === "string") return v;
    point[c] = v;
  }
  const valid = cells.valid_nll === "" ? null : real(cells.valid_nll, "valid_nll");
  if (typeof valid === "string") return valid;
  point.valid_nll = valid;
  return point as unknown as CurvePoint;
}

/** How one format turns a line into a point: the point, or what is wrong with the line. */
interface Format<T> {
  columns: readonly string[];
  point(cells: Record<string, string>, numbers: CurvePoint): T | string;
  /** Lines of one series must have increasing steps. */
  series(point: T): string;
}

function parseCurves<T extends CurvePoint>(text: string, source: string, format: Format<T>): Parsed<T> {
  const { columns } = format;
  let records: ParsedRecord[];
  try {
    records = parse(text, {
      info: true,
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
    }) as unknown as ParsedRecord[];
  } catch (e) {
    return { points: [], problems: [`${source}: ${(e as Error).message}`] };
  }
  if (records.length === 0) {
    return { points: [], problems: [`${source}: empty file, expected a header line`] };
  }
  const header = records[0].record;
  if (header.join(",") !== columns.join(",")) {
    const problem =
      `${source}: line ${records[0].info.lines}: bad header ${JSON.stringify(header.join(","))}, ` +
      `expected "${columns.join(",")}"`;
    return { points: [], problems: [problem] };
  }
  const points: T[] = [];
  const problems: string[] = [];
  const lastStep = new Map<string, number>();
  // Writers end every line with a line end, so a last line without one was cut off (a killed run, a
  // partial copy); its numbers may be truncated too.
  const cutLine = /[\r\n]$/.test(text) ? -1 : records.length - 1;
  const read = (record: string[], i: number): T | string => {
    if (i === cutLine) return "cut off mid-line (no line end)";
    if (record.length !== columns.length) return `${record.length} fields, expected ${columns.length}`;
    const cells = Object.fromEntries(columns.map((c, k) => [c, record[k]]));
    const numbers = toNumbers(cells);
    const point = typeof numbers === "string" ? numbers : format.point(cells, numbers);
    if (typeof point === "string") return point;
    const before = lastStep.get(format.series(point));
    if (before !== undefined && point.step <= before) {
      return `step ${point.step} does not follow step ${before}`;
    }
    lastStep.set(format.series(point), point.step);
    return point;
  };
  for (let i = 1; i < records.length; i++) {
    const point = read(records[i].record, i);
    if (typeof point === "string") {
      problems.push(`${source}: line ${records[i].info.lines}: ${point}; left out`);
    } else points.push(point);
  }
  return { points, problems };
}

/** Parses a run's curve file (`runs/<name>.curve.csv`); steps increase line by line. */
export function parseRunCurve(text: string, source: string): Parsed<CurvePoint> {
  return parseCurves(text, source, {
    columns: RUN_CURVE_COLUMNS,
    point: (_, numbers) => numbers,
    series: () => "",
  });
}

/** Parses a table's curve file (`results/<table>-<tier>-curves.csv`); steps increase within each row. */
export function parseTableCurves(text: string, source: string): Parsed<TableCurvePoint> {
  return parseCurves(text, source, {
    columns: TABLE_CURVE_COLUMNS,
    point: (cells, numbers) => cells.row === "" ? "row is empty" : { row: cells.row, ...numbers },
    series: (p) => p.row,
  });
}
