/** The learning-rate schedule and early stopping as plain logic (no GPU). */
import assert from "node:assert/strict";
import { checkSchedule, Schedule } from "../src/harness/schedule.ts";

Deno.test("decay, plateau cuts and early stopping follow the validation NLLs", () => {
  const s = Schedule.start({
    decay: 0.5,
    evalEvery: 10,
    plateau: { factor: 0.1, patience: 2 },
    stopPatience: 3,
  }, 1);
  s.stepped();
  s.stepped();
  assert.equal(s.lr, 0.25);
  assert.deepEqual(s.evaluated({ step: 10, value: 90 }), { improved: true });
  assert.deepEqual(s.evaluated({ step: 20, value: 90 }), { improved: false }, "equal is no improvement");
  assert.deepEqual(s.evaluated({ step: 30, value: 91 }), { improved: false, cutFrom: 0.25 });
  assert.equal(s.lr, 0.025);
  assert.equal(s.stop, false);
  assert.deepEqual(
    s.evaluated({ step: 40, value: 95 }),
    { improved: false },
    "the cut restarts the plateau count",
  );
  assert.equal(s.stop, true, "3 evaluations without a new best");
  assert.deepEqual(s.state.best, { step: 10, value: 90 });
  assert.deepEqual(s.state.last, { step: 40, value: 95 });
  s.evaluated({ step: 50, value: 89 });
  assert.equal(s.stop, false, "a new best resets early stopping");
  assert.deepEqual([s.state.sinceBest, s.state.sinceCut], [0, 0]);
});

Deno.test("a schedule state survives JSON (as in a checkpoint) exactly", () => {
  const a = Schedule.start({ decay: 0.99997, evalEvery: 5, plateau: { factor: 0.3, patience: 1 } }, 1e-3);
  for (let i = 0; i < 1000; i++) a.stepped();
  a.evaluated({ step: 5, value: 3.1234567891 });
  a.evaluated({ step: 10, value: 3.2 });
  const b = new Schedule(a.config, JSON.parse(JSON.stringify(a.state)));
  for (const s of [a, b]) for (let i = 0; i < 1000; i++) s.stepped();
  assert.equal(b.lr, a.lr);
  assert.deepEqual(b.state, a.state);
});

Deno.test("a schedule that cannot be followed is refused, naming the setting", () => {
  assert.throws(() => checkSchedule({ decay: 0 }), /lr decay must be in \(0, 1\]/);
  assert.throws(() => checkSchedule({ decay: 1.5 }), /lr decay/);
  assert.throws(() => checkSchedule({ decay: 1, stopPatience: 3 }), /need a validation interval/);
  assert.throws(
    () => checkSchedule({ decay: 1, evalEvery: 5, plateau: { factor: 1, patience: 2 } }),
    /plateau factor/,
  );
  assert.throws(() => checkSchedule({ decay: 1, evalEvery: 5, stopPatience: 0 }), /early-stopping patience/);
  assert.throws(() => checkSchedule({ decay: 1, evalEvery: 2.5 }), /validation interval/);
});
