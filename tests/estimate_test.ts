/** repro --estimate: a projection per row from timed steps, nothing trained or written; the 7-day guard. */
import assert from "node:assert/strict";
import { refusal, type RowProjection } from "../src/harness/estimate.ts";
import { task } from "./helpers/cli.ts";

Deno.test("repro mnist --estimate prints a projection for every selected row and writes nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const rows = ["pixelcnn", "diagonal-1x32"];
    const r = await task(
      "repro",
      ["mnist", "--estimate", "--tier", "smoke", "--rows", rows.join(","), "--out", `${dir}/out.csv`],
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n");
    const head = lines.findIndex((l) => l.startsWith("row "));
    assert.ok(head >= 0, r.stdout);
    for (
      const col of ["FLOPs/image", "train img/s", "eval img/s", "dispatches/step", "training", "evaluation"]
    ) {
      assert.ok(lines[head].includes(col), `missing column ${col}: ${lines[head]}`);
    }
    for (const row of rows) {
      const line = lines.find((l) => l.startsWith(`${row} `));
      assert.ok(line, `no projection for ${row}:\n${r.stdout}`);
      // Rates measured here are positive numbers.
      assert.ok(/\s\d+(\.\d+)?\s+\d+(\.\d+)?\s+\d+\s/.test(line), line);
    }
    assert.deepEqual([...Deno.readDirSync(dir)], [], "an estimate wrote files");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a paper-tier run projected over 7 days is refused without --yes, in one line naming every row", () => {
  const row = (name: string, days: number): RowProjection => ({
    row: name,
    rates: { error: "unused" },
    work: {} as RowProjection["work"],
    trainSeconds: days * 86400,
    evalSeconds: 0,
  });
  const long = [row("pixelcnn", 3), row("row-lstm", 4.5)];
  const why = refusal("mnist", "paper", long, false);
  assert.ok(
    why && why.includes("pixelcnn") && why.includes("row-lstm") && why.includes("--yes"),
    String(why),
  );
  assert.ok(!why.includes("\n"));
  assert.equal(refusal("mnist", "paper", long, true), null);
  assert.equal(refusal("mnist", "quick", long, false), null);
  assert.equal(refusal("mnist", "paper", [row("pixelcnn", 6.9)], false), null);
});
