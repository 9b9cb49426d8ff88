/** Builds the report page of a results folder: `<dir>/index.html` (see page.ts for what it holds). */
import { writeFileAtomic } from "../atomic.ts";
import { readInputs } from "./inputs.ts";
import { renderPage } from "./page.ts";

export interface BuiltReport {
  /** Where the page was written. */
  path: string;
  /** Inputs that were left out, one line each naming the file (and line); also listed on the page. */
  problems: string[];
}

/**
 * Reads the results CSVs, learning curves, benchmark CSVs and figures in `dir` and writes the page to
 * `out` (default `<dir>/index.html`). Malformed inputs do not stop it; `log` gets one line per problem
 * and one naming the page.
 */
export async function writeReport(
  dir: string,
  { out = `${dir}/index.html`, log = (_: string) => {} }: { out?: string; log?: (line: string) => void } = {},
): Promise<BuiltReport> {
  const inputs = await readInputs(dir);
  await writeFileAtomic(out, await renderPage(inputs));
  for (const p of inputs.problems) log(`report: ${p}`);
  log(
    `report: ${out}${
      inputs.problems.length ? ` (${inputs.problems.length} problems, listed on the page)` : ""
    }`,
  );
  return { path: out, problems: inputs.problems };
}
