/**
 * Learning curves: `<run>.curve.csv` next to a run's checkpoint, one line per logging interval, and the
 * per-table collection `results/<table>-<tier>-curves.csv` that `repro` keeps. Every field is a number
 * (or empty), so lines are written and read without quoting.
 *
 * A curve survives a kill: its lines up to a step are on disk before the checkpoint of that step is
 * written, and a resumed run first cuts the file back to the checkpoint's step, so no step is missing
 * or written twice.
 */
import { oneLineReason, WriteError, writeFileAtomic } from "./atomic.ts";
import { withFileLock } from "./lock.ts";

export const CURVE_COLUMNS = ["step", "images_seen", "wall_s", "train_loss", "lr", "valid_nll"] as const;
export const TABLE_CURVE_COLUMNS = ["row", ...CURVE_COLUMNS] as const;

export interface CurvePoint {
  step: number;
  imagesSeen: number;
  /** Wall seconds of training up to this step, over every session of the run. */
  wallSeconds: number;
  /** Mean training loss of the steps since the previous line, in the table's unit. */
  trainLoss: number;
  /** Learning rate of this step. */
  lr: number;
  /** Validation NLL at this step, when one was taken. */
  validNll?: number;
}

export class CurveError extends Error {}

/** A number with 7 significant digits (enough for any loss a table compares), integers as they are. */
function num(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(7)));
}

export function formatPoint(p: CurvePoint): string {
  return [p.step, p.imagesSeen, p.wallSeconds, p.trainLoss, p.lr].map(num).join(",") +
    `,${p.validNll === undefined ? "" : num(p.validNll)}`;
}

/** The step of a complete curve line, or null for anything else (a line cut short by a kill). */
function stepOf(line: string): number | null {
  const cells = line.split(",");
  if (cells.length !== CURVE_COLUMNS.length) return null;
  if (!cells.slice(0, 5).every((c) => c !== "" && Number.isFinite(Number(c)))) return null;
  const step = Number(cells[0]);
  return Number.isSafeInteger(step) ? step : null;
}

/** The path of a run's curve: the checkpoint path without `.safetensors`, plus `.curve.csv`. */
export function curvePath(checkpoint: string): string {
  return `${checkpoint.replace(/\.safetensors$/, "")}.curve.csv`;
}

/** Appends points to a run's curve file. */
export class CurveLog {
  private constructor(readonly path: string) {}

  /**
   * Opens the curve of a run: a new file holding only the header, or (resuming from step `resumeStep`)
   * the existing file cut back to its lines up to that step.
   */
  static async open(path: string, resumeStep?: number): Promise<CurveLog> {
    const header = CURVE_COLUMNS.join(",");
    let kept: string[] = [];
    if (resumeStep !== undefined) {
      const old = await readOrNull(path);
      if (old !== null) {
        const [first, ...lines] = old.split("\n");
        if (first !== header) {
          throw new CurveError(`${path}: not a curve file (header ${JSON.stringify(first)})`);
        }
        kept = lines.filter((l) => {
          const step = stepOf(l);
          return step !== null && step <= resumeStep;
        });
      }
    }
    await writeFileAtomic(path, [header, ...kept].map((l) => `${l}\n`).join(""));
    return new CurveLog(path);
  }

  async append(p: CurvePoint): Promise<void> {
    try {
      await Deno.writeTextFile(this.path, `${formatPoint(p)}\n`, { append: true });
    } catch (e) {
      throw new WriteError(`${this.path}: cannot write (${oneLineReason(e)})`);
    }
  }
}

async function readOrNull(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new CurveError(`${path}: cannot read curve (${(e as Error).message})`);
  }
}

/**
 * Puts the curve of row `row` into the table's collection at `path` (header `row,step,...`), replacing
 * that row's earlier lines and keeping the other rows; rows come in the order of `order` (the table's).
 * Concurrent `repro --rows` runs collect into one file, so the update holds the file's lock.
 */
export async function collectCurve(path: string, row: string, curve: string, order: string[]): Promise<void> {
  const text = await readOrNull(curve);
  if (text === null) throw new CurveError(`${curve}: no curve to collect for row ${row}`);
  const lines = text.split("\n").slice(1).filter((l) => stepOf(l) !== null);
  await withFileLock(path, () => replaceRow(path, row, lines, order));
}

/**
 * The lines of a table's curve file by row id (empty when there is no file yet); a file that is not a
 * table curve file is a CurveError.
 */
export async function readTableCurves(path: string): Promise<Map<string, string[]>> {
  const byRow = new Map<string, string[]>();
  const old = await readOrNull(path);
  if (old !== null) {
    const [first, ...rest] = old.split("\n");
    if (first !== TABLE_CURVE_COLUMNS.join(",")) {
      throw new CurveError(`${path}: not a table curve file (header ${JSON.stringify(first)})`);
    }
    for (const l of rest.filter(Boolean)) {
      const id = l.slice(0, l.indexOf(","));
      byRow.set(id, [...byRow.get(id) ?? [], l]);
    }
  }
  return byRow;
}

/** Reads the table's collection, replaces the lines of `row` with `lines` and writes it back. */
async function replaceRow(path: string, row: string, lines: string[], order: string[]): Promise<void> {
  const byRow = await readTableCurves(path);
  byRow.set(row, lines.map((l) => `${row},${l}`));
  const rank = (id: string) => order.includes(id) ? order.indexOf(id) : order.length;
  const rows = [...byRow.keys()].sort((a, b) => rank(a) - rank(b));
  const body = rows.flatMap((id) => byRow.get(id)!);
  await writeFileAtomic(path, [TABLE_CURVE_COLUMNS.join(","), ...body].map((l) => `${l}\n`).join(""));
}
