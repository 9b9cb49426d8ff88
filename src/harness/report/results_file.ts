/**
 * A results CSV read for the report: every row that parses, and one problem per line that does not, so
 * one bad line does not hide the rest of its table. The rules are those of `parseResultsCsv`.
 */
import { parse } from "csv-parse/sync";
import { parseResultsCsv, type ResultRow, rowKey } from "../csv.ts";

export interface ReadResults {
  rows: ResultRow[];
  /** One line each, naming the file and line. */
  problems: string[];
}

interface RawRecord {
  record: string[];
  raw: string;
  info: { lines: number };
}

/** Line on which a record starts: csv-parse reports where it ends. */
function startLine({ record, info }: RawRecord): number {
  const breaks = record.reduce((n, cell) => n + (cell.match(/\r\n|\r|\n/g)?.length ?? 0), 0);
  return info.lines - breaks;
}

/** Rows of a results file; lines that break the format are left out and described. */
export function readResultsText(text: string, source: string): ReadResults {
  let whole: string;
  try {
    return { rows: parseResultsCsv(text, source), problems: [] };
  } catch (e) {
    whole = (e as Error).message;
  }
  let records: RawRecord[];
  try {
    const options = { info: true, raw: true, bom: true, skip_empty_lines: true, relax_column_count: true };
    records = parse(text, options) as unknown as RawRecord[];
    // A bad header (or an empty file) leaves nothing to read rows by.
    parseResultsCsv(records[0]?.raw ?? "", source);
  } catch {
    return { rows: [], problems: [whole] };
  }
  // Each line alone, under the header and after blank lines that put it at its own line number, so the
  // parser's message names the line in this file.
  const rows: ResultRow[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const record of records.slice(1)) {
    const alone = records[0].raw.replace(/\r?\n?$/, "\n") + "\n".repeat(startLine(record) - 2) + record.raw;
    try {
      const [row] = parseResultsCsv(alone, source);
      if (!seen.has(rowKey(row))) rows.push(row);
      seen.add(rowKey(row));
    } catch (e) {
      problems.push(`${(e as Error).message}; left out`);
    }
  }
  // What fails only across lines (a duplicate row) is the whole file's message.
  return { rows, problems: problems.length ? problems : [whole] };
}
