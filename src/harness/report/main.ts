/** `deno task report`: builds results/index.html from the results folder (see build.ts). */
import { parseCli, runMain, UsageError } from "../cli/common.ts";
import { writeReport } from "./build.ts";

const HELP = `usage: deno task report [options]

Builds one self-contained HTML page from a results folder: per paper table and tier, paper vs ours for
every row with its status, how the rows were made, the learning curves (<table>-<tier>-curves.csv) and
the figures (PNG); then the benchmarks (bench-*.csv). Malformed inputs are listed on the page, naming the
file and line, and left out; everything else is still shown. Open the page in any browser.

options:
  --results DIR   the results folder (default results)
  --out FILE      where the page goes (default DIR/index.html)
  --help          this text`;

async function main(): Promise<number> {
  const { values: a } = parseCli({
    args: Deno.args,
    options: {
      results: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (a.help) {
    console.log(HELP);
    return 0;
  }
  const dir = a.results ?? "results";
  try {
    await Deno.stat(dir);
  } catch {
    throw new UsageError(`no results folder ${JSON.stringify(dir)}`);
  }
  await writeReport(dir, { out: a.out, log: (line) => console.error(line) });
  return 0;
}

if (import.meta.main) await runMain("report", main);
