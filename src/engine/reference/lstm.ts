/**
 * Float64 reference of the spatial LSTM scan, one step per row of an NHWC map (the Row LSTM's rows; for
 * the Diagonal BiLSTM the columns of the skewed map, stored column-major), eq. (3) of the paper:
 *
 *   [o, f, i, g] = sigma(K_ss (*) h_prev + gates + bias)      (sigmoid for o, f, i; tanh for g)
 *   c = f . c_prev + i . g,   h = o . tanh(c)
 *
 * `gates` is the precomputed input-to-state map [Z*B, Y, X, 4h] ([o | f | i | g] blocks of h channels);
 * Z independent scans (directions) each have their own weights. The state-to-state convolution reads
 * the previous step's h at offsets `taps` along the step's positions (zero outside), and the previous
 * step's c at the same position. Before the first step h and c are the learned h0, c0 of each direction.
 */

export interface ScanGeometry {
  z: number;
  batch: number;
  height: number;
  width: number;
  h: number;
  taps: number[];
}

export interface ScanWeights {
  gates: Float64Array;
  wss: Float64Array;
  bias: Float64Array;
  h0: Float64Array;
  c0: Float64Array;
}

export function scanSteps(geo: ScanGeometry): { steps: number; positions: number } {
  return { steps: geo.height, positions: geo.width };
}

/** Element index of (zb, step = row t, position = column l, channel) in an NHWC map with `ch` channels. */
function at(geo: ScanGeometry, zb: number, t: number, l: number, ch: number): number {
  return ((zb * geo.height + t) * geo.width + l) * ch;
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

export interface ScanForward {
  hidden: Float64Array;
  cell: Float64Array;
  /** Gate activations [o, f, i, g] after their nonlinearities, laid out like `gates`. */
  act: Float64Array;
}

export function lstmScanRef(geo: ScanGeometry, p: ScanWeights): ScanForward {
  const { z: Z, batch: B, h } = geo;
  const { steps: S, positions: L } = scanSteps(geo);
  const T = geo.taps.length, G = 4 * h;
  const n = Z * B * geo.height * geo.width;
  const hidden = new Float64Array(n * h), cell = new Float64Array(n * h), act = new Float64Array(n * G);
  const pre = new Float64Array(G);
  for (let z = 0; z < Z; z++) {
    for (let b = 0; b < B; b++) {
      const zb = z * B + b;
      for (let t = 0; t < S; t++) {
        for (let l = 0; l < L; l++) {
          const gi = at(geo, zb, t, l, G);
          for (let k = 0; k < G; k++) pre[k] = p.gates[gi + k] + p.bias[z * G + k];
          for (let ti = 0; ti < T; ti++) {
            const lp = l + geo.taps[ti];
            if (lp < 0 || lp >= L) continue;
            for (let c = 0; c < h; c++) {
              const hv = t === 0 ? p.h0[z * h + c] : hidden[at(geo, zb, t - 1, lp, h) + c];
              const wr = ((z * T + ti) * h + c) * G;
              for (let k = 0; k < G; k++) pre[k] += hv * p.wss[wr + k];
            }
          }
          const hi = at(geo, zb, t, l, h);
          for (let c = 0; c < h; c++) {
            const o = sigmoid(pre[c]), f = sigmoid(pre[h + c]), i = sigmoid(pre[2 * h + c]);
            const g = Math.tanh(pre[3 * h + c]);
            const cp = t === 0 ? p.c0[z * h + c] : cell[at(geo, zb, t - 1, l, h) + c];
            const cn = f * cp + i * g;
            cell[hi + c] = cn;
            hidden[hi + c] = o * Math.tanh(cn);
            act[gi + c] = o;
            act[gi + h + c] = f;
            act[gi + 2 * h + c] = i;
            act[gi + 3 * h + c] = g;
          }
        }
      }
    }
  }
  return { hidden, cell, act };
}

export interface ScanGradients {
  gates: Float64Array;
  wss: Float64Array;
  bias: Float64Array;
  h0: Float64Array;
  c0: Float64Array;
}

/** Backpropagation through the scan: gradients of sum(dHidden * hidden). */
export function lstmScanBackwardRef(
  geo: ScanGeometry,
  p: ScanWeights,
  fwd: ScanForward,
  dHidden: Float64Array,
): ScanGradients {
  const { z: Z, batch: B, h } = geo;
  const { steps: S, positions: L } = scanSteps(geo);
  const T = geo.taps.length, G = 4 * h;
  const out: ScanGradients = {
    gates: new Float64Array(p.gates.length),
    wss: new Float64Array(p.wss.length),
    bias: new Float64Array(p.bias.length),
    h0: new Float64Array(p.h0.length),
    c0: new Float64Array(p.c0.length),
  };
  for (let z = 0; z < Z; z++) {
    for (let b = 0; b < B; b++) {
      const zb = z * B + b;
      let rec = new Float64Array(L * h); // dL/dh of the current step from the next step's s-s conv
      let carry = new Float64Array(L * h); // dL/dc of the current step from the next step's cell update
      for (let t = S - 1; t >= 0; t--) {
        const nextRec = new Float64Array(L * h), nextCarry = new Float64Array(L * h);
        for (let l = 0; l < L; l++) {
          const gi = at(geo, zb, t, l, G), hi = at(geo, zb, t, l, h);
          for (let c = 0; c < h; c++) {
            const o = fwd.act[gi + c], f = fwd.act[gi + h + c], i = fwd.act[gi + 2 * h + c];
            const g = fwd.act[gi + 3 * h + c];
            const tc = Math.tanh(fwd.cell[hi + c]);
            const dh = dHidden[hi + c] + rec[l * h + c];
            const dc = dh * o * (1 - tc * tc) + carry[l * h + c];
            const cp = t === 0 ? p.c0[z * h + c] : fwd.cell[at(geo, zb, t - 1, l, h) + c];
            out.gates[gi + c] = dh * tc * o * (1 - o);
            out.gates[gi + h + c] = dc * cp * f * (1 - f);
            out.gates[gi + 2 * h + c] = dc * g * i * (1 - i);
            out.gates[gi + 3 * h + c] = dc * i * (1 - g * g);
            if (t === 0) out.c0[z * h + c] += dc * f;
            else nextCarry[l * h + c] = dc * f;
          }
          for (let k = 0; k < G; k++) out.bias[z * G + k] += out.gates[gi + k];
          for (let ti = 0; ti < T; ti++) {
            const lp = l + geo.taps[ti];
            if (lp < 0 || lp >= L) continue;
            for (let c = 0; c < h; c++) {
              const hv = t === 0 ? p.h0[z * h + c] : fwd.hidden[at(geo, zb, t - 1, lp, h) + c];
              const wr = ((z * T + ti) * h + c) * G;
              let s = 0;
              for (let k = 0; k < G; k++) {
                s += out.gates[gi + k] * p.wss[wr + k];
                out.wss[wr + k] += hv * out.gates[gi + k];
              }
              if (t === 0) out.h0[z * h + c] += s;
              else nextRec[lp * h + c] += s;
            }
          }
        }
        rec = nextRec;
        carry = nextCarry;
      }
    }
  }
  return out;
}
