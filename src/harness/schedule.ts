/**
 * The learning-rate schedule and early stopping, driven by validation NLL taken every `evalEvery`
 * steps: a per-step exponential decay, a plateau rule (multiply the rate by `factor` after `patience`
 * evaluations without improvement) and early stopping (after `stopPatience` evaluations without
 * improvement). Config and state are plain numbers saved in every checkpoint, so a resumed run follows
 * the same schedule bit for bit.
 */

export interface ScheduleConfig {
  /** Factor applied to the rate after every step, in (0, 1]; 1 keeps it constant. */
  decay: number;
  /** Steps between validations (none when absent). */
  evalEvery?: number;
  /** Multiply the rate by `factor` after `patience` evaluations without a new best. */
  plateau?: { factor: number; patience: number };
  /** Stop after this many evaluations without a new best. */
  stopPatience?: number;
}

/** One validation result: the step it was taken at and the NLL in the table's unit. */
export interface Validation {
  step: number;
  value: number;
}

export interface ScheduleState {
  /** The rate of the next step. */
  lr: number;
  /** The best validation so far (lowest NLL). */
  best: Validation | null;
  /** The latest validation. */
  last: Validation | null;
  /** Evaluations since the best one. */
  sinceBest: number;
  /** Evaluations since the best one or the last plateau cut, whichever came later. */
  sinceCut: number;
}

export const CONSTANT: ScheduleConfig = { decay: 1 };

/** What one evaluation changed. */
export interface Outcome {
  improved: boolean;
  /** The rate before a plateau cut, when this evaluation made one. */
  cutFrom?: number;
}

export class Schedule {
  constructor(readonly config: ScheduleConfig, readonly state: ScheduleState) {
    checkSchedule(config);
  }

  /** A fresh schedule starting at rate `lr`. */
  static start(config: ScheduleConfig, lr: number): Schedule {
    return new Schedule(config, { lr, best: null, last: null, sinceBest: 0, sinceCut: 0 });
  }

  get lr(): number {
    return this.state.lr;
  }

  /** True once early stopping's patience is spent. */
  get stop(): boolean {
    const p = this.config.stopPatience;
    return p !== undefined && this.state.sinceBest >= p;
  }

  /** Call after every optimizer step. */
  stepped(): void {
    this.state.lr *= this.config.decay;
  }

  /** Records a validation NLL (lower is better). */
  evaluated(v: Validation): Outcome {
    const s = this.state;
    s.last = v;
    if (s.best === null || v.value < s.best.value) {
      s.best = v;
      s.sinceBest = s.sinceCut = 0;
      return { improved: true };
    }
    s.sinceBest++;
    s.sinceCut++;
    const p = this.config.plateau;
    if (p && s.sinceCut >= p.patience) {
      const cutFrom = s.lr;
      s.lr *= p.factor;
      s.sinceCut = 0;
      return { improved: false, cutFrom };
    }
    return { improved: false };
  }
}

/** Throws on a configuration that cannot be followed; the message names the setting. */
export function checkSchedule(c: ScheduleConfig): void {
  if (!(c.decay > 0 && c.decay <= 1)) throw new RangeError(`lr decay must be in (0, 1], got ${c.decay}`);
  const every = c.evalEvery;
  if (every !== undefined && !(Number.isInteger(every) && every > 0)) {
    throw new RangeError(`the validation interval must be a positive integer, got ${every}`);
  }
  if ((c.plateau || c.stopPatience !== undefined) && every === undefined) {
    throw new RangeError("the plateau rule and early stopping need a validation interval");
  }
  if (c.plateau) {
    const { factor, patience } = c.plateau;
    if (!(factor > 0 && factor < 1)) throw new RangeError(`plateau factor must be in (0, 1), got ${factor}`);
    if (!(Number.isInteger(patience) && patience > 0)) {
      throw new RangeError(`plateau patience must be a positive integer, got ${patience}`);
    }
  }
  const stop = c.stopPatience;
  if (stop !== undefined && !(Number.isInteger(stop) && stop > 0)) {
    throw new RangeError(`early-stopping patience must be a positive integer, got ${stop}`);
  }
}
