/** Curve files: the header, cutting back on resume (a line cut short by a kill included), collection per table. */
import assert from "node:assert/strict";
import { collectCurve, CurveError, CurveLog, curvePath } from "../src/harness/curves.ts";

const HEADER = "step,images_seen,wall_s,train_loss,lr,valid_nll";
const point = (step: number, validNll?: number) => ({
  step,
  imagesSeen: step * 16,
  wallSeconds: step / 3,
  trainLoss: 100 / step,
  lr: 0.1 / step,
  validNll,
});

Deno.test("a curve is cut back to the resumed step, dropping a line cut short", async () => {
  const dir = await Deno.makeTempDir();
  const path = curvePath(`${dir}/run.safetensors`);
  assert.equal(path, `${dir}/run.curve.csv`);
  const log = await CurveLog.open(path);
  for (const s of [100, 200, 300]) await log.append(point(s, s === 200 ? 88.25 : undefined));
  const lines = (await Deno.readTextFile(path)).split("\n");
  assert.deepEqual(lines.slice(0, 3), [
    HEADER,
    "100,1600,33.33333,1,0.001,",
    "200,3200,66.66667,0.5,0.0005,88.25",
  ]);
  // A kill during a write leaves part of a line; 30 would pass for a step if lines were read loosely.
  await Deno.writeTextFile(path, "30", { append: true });
  await CurveLog.open(path, 250);
  assert.deepEqual((await Deno.readTextFile(path)).split("\n"), [...lines.slice(0, 3), ""]);
  await CurveLog.open(path);
  assert.equal(await Deno.readTextFile(path), `${HEADER}\n`, "a fresh run starts a fresh curve");
  await Deno.writeTextFile(path, "not,a,curve\n");
  await assert.rejects(
    CurveLog.open(path, 10),
    (e: Error) => e instanceof CurveError && e.message.includes(path),
  );
});

Deno.test("a table's curves keep one block per row, in table order, replaced on rerun", async () => {
  const dir = await Deno.makeTempDir();
  const table = `${dir}/mnist-quick-curves.csv`;
  const curve = async (name: string, steps: number[]) => {
    const path = `${dir}/${name}.curve.csv`;
    const log = await CurveLog.open(path);
    for (const s of steps) await log.append(point(s));
    return path;
  };
  const order = ["pixelcnn", "row-lstm"];
  await collectCurve(table, "row-lstm", await curve("r", [10, 20]), order);
  await collectCurve(table, "pixelcnn", await curve("p", [10]), order);
  await collectCurve(table, "row-lstm", await curve("r2", [5]), order);
  const lines = (await Deno.readTextFile(table)).trim().split("\n");
  assert.equal(lines[0], `row,${HEADER}`);
  assert.deepEqual(lines.slice(1).map((l) => l.split(",").slice(0, 2).join(",")), [
    "pixelcnn,10",
    "row-lstm,5",
  ]);
  await assert.rejects(collectCurve(table, "x", `${dir}/missing.curve.csv`, order), CurveError);
});
