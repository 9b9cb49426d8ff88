/**
 * Writing rows into a results file on disk: the locked read-merge-write that concurrent `repro` runs
 * share, and the side file that keeps rows a run computed but could not write there.
 */
import { basename, dirname, join } from "node:path";
import { oneLineReason, writeFileAtomic } from "./atomic.ts";
import { formatResultsCsv, mergeResults, readResultsFile, type ResultRow, rowKey } from "./csv.ts";
import { withFileLock } from "./lock.ts";

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/**
 * The rows of the results file at `path`, or none when it does not exist yet. Anything else that is
 * not a results file is a ResultsError naming it.
 */
export async function readResultsOrNone(path: string): Promise<ResultRow[]> {
  return await exists(path) ? await readResultsFile(path) : [];
}

/**
 * Updates the results file at `path` with `rows`, replacing rows of the same table, row, tier and
 * metric and keeping the others. Holds the file's lock from reading to writing, so that runs writing
 * the same file (`repro --rows A` and `--rows B` with one `--out`) each keep the other's rows.
 */
export async function updateResultsFile(path: string, rows: ResultRow[]): Promise<void> {
  await withFileLock(path, async () => {
    const fresh = new Set(rows.map(rowKey));
    const kept = (await readResultsOrNone(path)).filter((r) => !fresh.has(rowKey(r)));
    await writeFileAtomic(path, formatResultsCsv(mergeResults([kept, rows])));
  });
}

/**
 * Writes `rows`, which could not go to `out`, to a results file of their own: next to `out`
 * (`<out>.unsaved-<time>.csv`), else in the system's temporary folder. Returns the sentence that tells
 * the user where they are (or that they could not be written anywhere).
 */
export async function keepAside(out: string, rows: ResultRow[]): Promise<string> {
  const what = `the ${rows.length} result rows computed`;
  const text = formatResultsCsv(mergeResults([rows]));
  const stamp = new Date().toISOString().replace(/[-:]|\.\d+/g, "");
  const beside = join(dirname(out), `${basename(out)}.unsaved-${stamp}.csv`);
  try {
    await writeFileAtomic(beside, text);
    return `${what} are kept in ${beside}`;
  } catch {
    // The folder of `out` is often the cause (full, gone, read-only): try the temporary folder.
  }
  try {
    const tmp = await Deno.makeTempFile({ prefix: `${basename(out, ".csv")}.unsaved-`, suffix: ".csv" });
    await writeFileAtomic(tmp, text);
    return `${what} are kept in ${tmp}`;
  } catch (e) {
    return `${what} could not be written anywhere (${oneLineReason(e)})`;
  }
}
