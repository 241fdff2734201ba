/**
 * A learned ranker over item-to-item evidence (`ranker`): every candidate gets a score, the
 * sequence is used at several ranges, and the weights of the evidence are learned rather than
 * fixed.
 *
 * Features of a candidate c for a history h₁…h_L (r = L − position, 0 for the latest item):
 *   fwd     Σ_r 0.5^r · P→(c | h_r)     next-item transitions (window 3, gap-decayed), fast decay
 *   bwd     Σ_r 0.5^r · P←(c | h_r)     c usually comes *before* h_r (noisy orders, bundles)
 *   co      Σ_r d^r · pairs(h_r,c)/n(h_r)         conditional co-occurrence (whole histories)
 *   cos     Σ_r d^r · pairs(h_r,c)/√(n(h_r)·n(c)) cosine of the same counts
 *   close   Σ_r d^r · Σ 1/|gap| / n(h_r)          co-occurrence decayed by distance in the sequence
 *   hop2    Σ_b P→(b | h_L) · P→(c | b)           two-hop transitions from the latest item
 *   pop     log(1 + n(c)) / log(1 + max n)        popularity (every candidate has it)
 * Each sparse feature enters as log(1 + f / scale); the score is w · features with w ≥ 0, so
 * candidates without evidence are ordered by popularity and a little evidence does not beat a
 * much more popular item unless the learned weights say so.
 *
 * Learning (inside `fit`, so the evaluation and the training Lambda need nothing else): the last
 * item of every shopper with ≥ 3 items is held out, the statistics are recomputed without it,
 * and w is fitted by SGD on a pairwise logistic loss (held-out item vs items drawn uniformly
 * from those the shopper never touched), seeded. The final statistics are then recomputed on
 * all the data with the learned weights — the held-out items are the validation split of the
 * data the model is given, never anything it will be tested on.
 */
import { popularity } from './cooccurrence.ts';
import { mixSeed, seededRng } from './rng.ts';
import type {
  HistoryEntry,
  ModelFactory,
  Neighbour,
  RecommenderModel,
  ScoreAccumulator,
  TrainingData,
} from './types.ts';

export const RANKER_FEATURES = [
  'fwd',
  'bwd',
  'co',
  'cos',
  'close',
  'hop2',
  'hopco',
  'lastFwd',
  'lastCos',
] as const;
const F = RANKER_FEATURES.length;

/** Sparse pair statistics in CSR form: row i lists every item that shares a history with i. */
export interface PairStats {
  readonly n: number;
  /** Shoppers holding each item. */
  readonly count: Float64Array;
  readonly rowStart: Int32Array;
  readonly nbr: Int32Array;
  readonly pairs: Float32Array;
  /** Gap-decayed forward transitions i → j (j after i within `window`). */
  readonly fwd: Float32Array;
  /** The same backwards (j before i within `window`). */
  readonly bwd: Float32Array;
  /** Σ 1/|gap| over shared histories. */
  readonly close: Float32Array;
  readonly fwdOut: Float64Array;
  readonly bwdOut: Float64Array;
  /** Top forward transitions per item (for two-hop evidence): [idx, P→] pairs. */
  readonly topFwd: readonly Float64Array[];
  readonly topFwdIdx: readonly Int32Array[];
  /**
   * Two-hop co-occurrence per item, precomputed: Σ_b cos(i,b)·cos(b,c) over i's top
   * `cosNeighbours` cosine neighbours b and theirs, c ≠ i, best `hopKeep` kept.
   */
  readonly hopCo: readonly Float64Array[];
  readonly hopCoIdx: readonly Int32Array[];
}

export interface PairStatsOptions {
  /** Most recent items of a history used for pairs. @default 50 */
  readonly maxItems?: number;
  /** Transition window. @default 3 */
  readonly window?: number;
  /** Weight of a transition at gap g: decay^(g−1). @default 0.5 */
  readonly decay?: number;
  /** Forward neighbours kept for two-hop transition evidence. @default 20 */
  readonly hopNeighbours?: number;
  /** Cosine neighbours per hop of the two-hop co-occurrence lists. @default 100 */
  readonly cosNeighbours?: number;
  /** Length of the precomputed two-hop co-occurrence lists. @default 200 */
  readonly hopKeep?: number;
}

/** One pass over the histories (Σ|h|² work through an inverted index and dense scratch rows). */
export function pairStats(data: TrainingData, options: PairStatsOptions = {}): PairStats {
  const n = data.vocab.items.length;
  const maxItems = options.maxItems ?? 50;
  const window = options.window ?? 3;
  const decay = options.decay ?? 0.5;
  const hopK = options.hopNeighbours ?? 20;
  const cosK = options.cosNeighbours ?? 100;
  const hopKeep = options.hopKeep ?? 200;
  const hist: Int32Array[] = [];
  const count = new Float64Array(n);
  const postLen = new Int32Array(n);
  for (const s of data.shoppers) {
    const items = s.items.length > maxItems ? s.items.subarray(s.items.length - maxItems) : s.items;
    hist.push(items);
    for (const i of items) {
      count[i] = (count[i] as number) + 1;
      postLen[i] = (postLen[i] as number) + 1;
    }
  }
  // Postings: (history, position) per item.
  const postStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) postStart[i + 1] = (postStart[i] as number) + (postLen[i] as number);
  const postH = new Int32Array(postStart[n] as number);
  const postP = new Int32Array(postStart[n] as number);
  const fill = postStart.slice(0, n);
  for (let h = 0; h < hist.length; h++) {
    const items = hist[h] as Int32Array;
    for (let p = 0; p < items.length; p++) {
      const i = items[p] as number;
      const at = fill[i] as number;
      postH[at] = h;
      postP[at] = p;
      fill[i] = at + 1;
    }
  }
  const sPairs = new Float64Array(n);
  const sFwd = new Float64Array(n);
  const sBwd = new Float64Array(n);
  const sClose = new Float64Array(n);
  const touched: number[] = [];
  const rowStart = new Int32Array(n + 1);
  let cap = 1 << 16;
  let nbr = new Int32Array(cap);
  let pairs = new Float32Array(cap);
  let fwd = new Float32Array(cap);
  let bwd = new Float32Array(cap);
  let close = new Float32Array(cap);
  const fwdOut = new Float64Array(n);
  const bwdOut = new Float64Array(n);
  const gapWeight = Float64Array.from({ length: window + 1 }, (_, g) => (g === 0 ? 0 : decay ** (g - 1)));
  let len = 0;
  for (let i = 0; i < n; i++) {
    for (let q = postStart[i] as number; q < (postStart[i + 1] as number); q++) {
      const items = hist[postH[q] as number] as Int32Array;
      const p = postP[q] as number;
      for (let k = 0; k < items.length; k++) {
        if (k === p) continue;
        const j = items[k] as number;
        if (sPairs[j] === 0) touched.push(j);
        sPairs[j] = (sPairs[j] as number) + 1;
        const gap = k - p;
        const ag = gap > 0 ? gap : -gap;
        sClose[j] = (sClose[j] as number) + 1 / ag;
        if (ag <= window) {
          if (gap > 0) sFwd[j] = (sFwd[j] as number) + (gapWeight[ag] as number);
          else sBwd[j] = (sBwd[j] as number) + (gapWeight[ag] as number);
        }
      }
    }
    touched.sort((a, b) => a - b);
    if (len + touched.length > cap) {
      while (len + touched.length > cap) cap *= 2;
      nbr = grow(nbr, cap);
      pairs = grow(pairs, cap);
      fwd = grow(fwd, cap);
      bwd = grow(bwd, cap);
      close = grow(close, cap);
    }
    let fo = 0;
    let bo = 0;
    for (const j of touched) {
      nbr[len] = j;
      pairs[len] = sPairs[j] as number;
      fwd[len] = sFwd[j] as number;
      bwd[len] = sBwd[j] as number;
      close[len] = sClose[j] as number;
      fo += sFwd[j] as number;
      bo += sBwd[j] as number;
      len++;
      sPairs[j] = 0;
      sFwd[j] = 0;
      sBwd[j] = 0;
      sClose[j] = 0;
    }
    fwdOut[i] = fo;
    bwdOut[i] = bo;
    touched.length = 0;
    rowStart[i + 1] = len;
  }
  const topFwd: Float64Array[] = [];
  const topFwdIdx: Int32Array[] = [];
  const topCos: Float64Array[] = [];
  const topCosIdx: Int32Array[] = [];
  const rowVals = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = rowStart[i] as number;
    const b = rowStart[i + 1] as number;
    const out = (fwdOut[i] as number) || 1;
    for (let e = a; e < b; e++) rowVals[e - a] = (fwd[e] as number) / out;
    const f = topOfRow(nbr.subarray(a, b), rowVals.subarray(0, b - a), hopK);
    topFwdIdx.push(f.idx);
    topFwd.push(f.val);
    const ci = Math.sqrt(count[i] as number);
    for (let e = a; e < b; e++) {
      rowVals[e - a] = (pairs[e] as number) / (ci * Math.sqrt(count[nbr[e] as number] as number));
    }
    const c = topOfRow(nbr.subarray(a, b), rowVals.subarray(0, b - a), cosK);
    topCosIdx.push(c.idx);
    topCos.push(c.val);
  }
  const hopCo: Float64Array[] = [];
  const hopCoIdx: Int32Array[] = [];
  const acc = new Float64Array(n);
  const hit = new Int32Array(n);
  const vals = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let m = 0;
    const idx1 = topCosIdx[i] as Int32Array;
    const v1 = topCos[i] as Float64Array;
    for (let x = 0; x < idx1.length; x++) {
      const mid = idx1[x] as number;
      const a = v1[x] as number;
      const idx2 = topCosIdx[mid] as Int32Array;
      const v2 = topCos[mid] as Float64Array;
      for (let y = 0; y < idx2.length; y++) {
        const c = idx2[y] as number;
        if (c === i) continue;
        if (acc[c] === 0) hit[m++] = c;
        acc[c] = (acc[c] as number) + a * (v2[y] as number);
      }
    }
    // Keep the items scoring at least the hopKeep-th best (all of them when fewer); the order
    // inside a list does not matter (its values are summed), item order keeps it deterministic.
    let threshold = 0;
    if (m > hopKeep) {
      for (let t = 0; t < m; t++) vals[t] = acc[hit[t] as number] as number;
      const sorted = vals.subarray(0, m).sort();
      threshold = sorted[m - hopKeep] as number;
    }
    const items = hit.subarray(0, m).sort();
    let kept = 0;
    for (let t = 0; t < m; t++) if ((acc[items[t] as number] as number) >= threshold) kept++;
    const outIdx = new Int32Array(kept);
    const outVal = new Float64Array(kept);
    kept = 0;
    for (let t = 0; t < m; t++) {
      const c = items[t] as number;
      const v = acc[c] as number;
      if (v >= threshold) {
        outIdx[kept] = c;
        outVal[kept++] = v;
      }
      acc[c] = 0;
    }
    hopCoIdx.push(outIdx);
    hopCo.push(outVal);
  }
  return {
    hopCo,
    hopCoIdx,
    n,
    count,
    rowStart,
    nbr: nbr.slice(0, len),
    pairs: pairs.slice(0, len),
    fwd: fwd.slice(0, len),
    bwd: bwd.slice(0, len),
    close: close.slice(0, len),
    fwdOut,
    bwdOut,
    topFwd,
    topFwdIdx,
  };
}

/**
 * The entries of a row (item indices ascending) whose value is positive and at least the k-th
 * largest: ties at the threshold are all kept, so the result does not depend on sort stability.
 */
function topOfRow(idx: Int32Array, val: Float64Array, k: number): { idx: Int32Array; val: Float64Array } {
  let threshold = Number.MIN_VALUE;
  if (val.length > k) {
    const sorted = Float64Array.from(val).sort();
    threshold = Math.max(threshold, sorted[val.length - k] as number);
  }
  let kept = 0;
  for (const v of val) if (v >= threshold) kept++;
  const outIdx = new Int32Array(kept);
  const outVal = new Float64Array(kept);
  kept = 0;
  for (let e = 0; e < val.length; e++) {
    if ((val[e] as number) >= threshold) {
      outIdx[kept] = idx[e] as number;
      outVal[kept++] = val[e] as number;
    }
  }
  return { idx: outIdx, val: outVal };
}

function grow<T extends Int32Array | Float32Array>(a: T, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a);
  return b;
}

/** Popularity feature in [0, 1]: log(1 + n(c)) / log(1 + max n). */
export function logPopularity(count: Float64Array): Float64Array {
  let max = 0;
  for (const v of count) if (v > max) max = v;
  const d = Math.log1p(max) || 1;
  return Float64Array.from(count, (v) => Math.log1p(v) / d);
}

/**
 * Item-level (dense) features besides popularity, each in [0, 1]: how often the item is a
 * shopper's latest item (what is new or rising), its mean relative position in histories
 * (early vs late in a journey), and 30-day time-decayed popularity (its trend).
 */
export const DENSE_FEATURES = ['latest', 'position', 'recent'] as const;
const DENSE = DENSE_FEATURES.length;

export function itemFeatures(data: TrainingData): Float64Array[] {
  const n = data.vocab.items.length;
  const latest = new Float64Array(n);
  const posSum = new Float64Array(n);
  const posCount = new Float64Array(n);
  for (const s of data.shoppers) {
    const len = s.items.length;
    if (len === 0) continue;
    const last = s.items[len - 1] as number;
    latest[last] = (latest[last] as number) + 1;
    if (len < 2) continue;
    for (let k = 0; k < len; k++) {
      const i = s.items[k] as number;
      posSum[i] = (posSum[i] as number) + k / (len - 1);
      posCount[i] = (posCount[i] as number) + 1;
    }
  }
  const position = Float64Array.from(posSum, (v, i) =>
    (posCount[i] as number) > 0 ? v / (posCount[i] as number) : 0.5,
  );
  const recent = popularity(data, 30);
  return [logPopularity(latest), position, Float64Array.from(recent, (v) => Math.sqrt(v))];
}

/** Dense scratch of the raw (untransformed) features of every touched candidate. */
class FeatureScratch {
  readonly f: Float64Array[];
  readonly seen: Uint8Array;
  readonly touched: number[] = [];
  constructor(n: number) {
    this.f = Array.from({ length: F }, () => new Float64Array(n));
    this.seen = new Uint8Array(n);
  }
  touch(c: number): void {
    if (this.seen[c] === 0) {
      this.seen[c] = 1;
      this.touched.push(c);
    }
  }
  reset(): void {
    for (const c of this.touched) {
      this.seen[c] = 0;
      for (const a of this.f) a[c] = 0;
    }
    this.touched.length = 0;
  }
}

export interface RankerShape {
  /** History decay of the transition features. @default 0.5 */
  readonly seqDecay: number;
  /** History decay of the co-occurrence features. @default 0.85 */
  readonly coDecay: number;
  /** Most recent history items used. @default 20 */
  readonly maxHistory: number;
  /** Most recent history items whose two-hop co-occurrence neighbours count. @default 3 */
  readonly hopHistory: number;
}

/** Accumulates the raw features of a history into `s` (reset by the caller). */
function collectFeatures(
  st: PairStats,
  history: readonly HistoryEntry[],
  shape: RankerShape,
  s: FeatureScratch,
): void {
  const [fFwd, fBwd, fCo, fCos, fClose, fHop, fHopCo, fLastFwd, fLastCos] = s.f as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  let r = 0;
  let dSeq = 1;
  let dCo = 1;
  for (let h = history.length - 1; h >= 0 && r < shape.maxHistory; h--, r++) {
    const i = (history[h] as HistoryEntry).idx;
    const ni = st.count[i] as number;
    if (ni > 0) {
      const fo = (st.fwdOut[i] as number) || 1;
      const bo = (st.bwdOut[i] as number) || 1;
      const rs = Math.sqrt(ni);
      const a = st.rowStart[i] as number;
      const b = st.rowStart[i + 1] as number;
      for (let e = a; e < b; e++) {
        const c = st.nbr[e] as number;
        s.touch(c);
        const p = st.pairs[e] as number;
        fCo[c] = (fCo[c] as number) + (dCo * p) / ni;
        fCos[c] = (fCos[c] as number) + (dCo * p) / (rs * Math.sqrt(st.count[c] as number));
        fClose[c] = (fClose[c] as number) + (dCo * (st.close[e] as number)) / ni;
        const fw = st.fwd[e] as number;
        if (fw > 0) fFwd[c] = (fFwd[c] as number) + (dSeq * fw) / fo;
        const bw = st.bwd[e] as number;
        if (bw > 0) fBwd[c] = (fBwd[c] as number) + (dSeq * bw) / bo;
        if (r === 0) {
          fLastCos[c] = p / (rs * Math.sqrt(st.count[c] as number));
          if (fw > 0) fLastFwd[c] = fw / fo;
        }
      }
      if (r === 0) {
        const idx1 = st.topFwdIdx[i] as Int32Array;
        const p1 = st.topFwd[i] as Float64Array;
        for (let x = 0; x < idx1.length; x++) {
          const mid = idx1[x] as number;
          const pm = p1[x] as number;
          const idx2 = st.topFwdIdx[mid] as Int32Array;
          const p2 = st.topFwd[mid] as Float64Array;
          for (let y = 0; y < idx2.length; y++) {
            const c = idx2[y] as number;
            s.touch(c);
            fHop[c] = (fHop[c] as number) + pm * (p2[y] as number);
          }
        }
      }
      if (r < shape.hopHistory) {
        const idx = st.hopCoIdx[i] as Int32Array;
        const v = st.hopCo[i] as Float64Array;
        for (let x = 0; x < idx.length; x++) {
          const c = idx[x] as number;
          s.touch(c);
          fHopCo[c] = (fHopCo[c] as number) + dCo * (v[x] as number);
        }
      }
    }
    dSeq *= shape.seqDecay;
    dCo *= shape.coDecay;
  }
}

/**
 * Design vector of a candidate with raw sparse features x and popularity p:
 *   [ log(1 + x_k / scale_k) …, p · log(1 + x_k / scale_k) …, e, e · p, p ]  with e = [any x_k > 0].
 * Every entry but the last is 0 when the candidate has no evidence, so scoring stays sparse:
 * score = sparse part + w[POP] · p.
 */
export function design(x: Float64Array, p: number, scale: Float64Array, out: Float64Array, at: number): void {
  let any = 0;
  for (let k = 0; k < F; k++) {
    const v = (x[k] as number) > 0 ? Math.log1p((x[k] as number) / (scale[k] as number)) : 0;
    if (v > 0) any = 1;
    out[at + k] = v;
    out[at + F + k] = v * p;
  }
  out[at + 2 * F] = any;
  out[at + 2 * F + 1] = any * p;
  out[at + POP] = p;
}

const D = 2 * F + 3;
const POP = D - 1;
/** Design width with the dense item features appended after the popularity entry. */
const DW = D + DENSE;
const NONNEG: readonly boolean[] = Array.from({ length: DW }, (_, k) => k < F || k === POP);

/** Learned weights and the feature scales (mean positive value of each raw feature). */
export interface RankerWeights {
  /** Weights of the design vector `design(x, p)`; `w[POP]` is the popularity weight. */
  readonly w: Float64Array;
  readonly scale: Float64Array;
  readonly pop: number;
  /** Bin edges of each raw feature (positive values) and of popularity. */
  readonly edges: readonly Float64Array[];
  readonly popEdges: Float64Array;
  /** Interaction table: [feature][feature bin 1..BINS][popularity bin] (bin 0 = no evidence = 0). */
  readonly table: Float64Array;
}

/** Feature bins (quantiles of positive values) and popularity bins of the interaction tables. */
export const BINS = 12;
export const POP_BINS = 6;

/** `bins − 1` inner quantile edges of `values` (sorted copy); bin = number of edges < v. */
export function quantileEdges(values: number[], bins: number): Float64Array {
  const v = values.slice().sort((a, b) => a - b);
  const out = new Float64Array(bins - 1);
  for (let b = 1; b < bins; b++)
    out[b - 1] = v.length === 0 ? 0 : (v[Math.floor((b * v.length) / bins)] as number);
  return out;
}

function binOf(edges: Float64Array, v: number): number {
  let b = 0;
  while (b < edges.length && (edges[b] as number) < v) b++;
  return b;
}

/** Table cell of each feature for raw features x and popularity p (−1 without evidence). */
export function tableCells(
  x: Float64Array,
  p: number,
  edges: readonly Float64Array[],
  popEdges: Float64Array,
  out: Int32Array,
  at: number,
): void {
  const q = binOf(popEdges, p);
  for (let k = 0; k < F; k++) {
    const v = x[k] as number;
    out[at + k] = v > 0 ? (k * (BINS + 1) + 1 + binOf(edges[k] as Float64Array, v)) * POP_BINS + q : -1;
  }
}

export interface RankerTrainOptions {
  readonly seed: number;
  /** Shoppers whose held-out item trains the weights. @default 8000 */
  readonly users?: number;
  /** Uniform negatives per held-out item. @default 10 */
  readonly negatives?: number;
  /** @default 8 */
  readonly epochs?: number;
  /** @default 0.05 */
  readonly learningRate?: number;
  /** L2 penalty. @default 1e-4 */
  readonly l2?: number;
  /** Learning rate of the interaction tables (0 = linear model only). @default 0.02 */
  readonly tableRate?: number;
  /** @default 1e-3 */
  readonly tableL2?: number;
}

/** The data with each qualifying shopper's last item removed, and those items as targets. */
export function holdOutLast(data: TrainingData): {
  readonly inner: TrainingData;
  readonly targets: { readonly shopper: number; readonly item: number }[];
} {
  const targets: { shopper: number; item: number }[] = [];
  const shoppers = data.shoppers.map((s, k) => {
    if (s.items.length < 3) return s;
    const m = s.items.length - 1;
    targets.push({ shopper: k, item: s.items[m] as number });
    return {
      user: s.user,
      items: s.items.subarray(0, m),
      weights: s.weights.subarray(0, m),
      times: s.times.subarray(0, m),
      lastTimes: s.lastTimes.subarray(0, m),
    };
  });
  return { inner: { ...data, shoppers }, targets };
}

const heldMemo = new WeakMap<TrainingData, ReturnType<typeof holdOutLast>>();

function historyOf(items: Int32Array): HistoryEntry[] {
  return Array.from(items, (idx) => ({ idx, weight: 1, ts: 0 }));
}

/**
 * Fits the weights on held-out last items (pairwise logistic loss, SGD, w ≥ 0). Feature scales
 * are the mean positive value of each feature over the training examples.
 */
export function trainRankerWeights(
  data: TrainingData,
  shape: RankerShape,
  options: RankerTrainOptions,
  statsOptions: PairStatsOptions = {},
): RankerWeights {
  let held = heldMemo.get(data);
  if (!held) {
    held = holdOutLast(data);
    heldMemo.set(data, held);
  }
  const { targets } = held;
  const st = statsOf(held.inner, statsOptions);
  const pop = logPopularity(st.count);
  const dense = itemFeatures(held.inner);
  const n = st.n;
  const rng = seededRng(mixSeed(options.seed, 77));
  const want = Math.min(options.users ?? 8000, targets.length);
  // Seeded sample of targets (partial Fisher–Yates over indices).
  const order = Int32Array.from(targets.keys());
  for (let i = 0; i < want; i++) {
    const j = i + Math.floor(rng() * (order.length - i));
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  const negs = options.negatives ?? 10;
  const scratch = new FeatureScratch(n);
  // Rows: [pos raw features..., pos pop] then one row per negative.
  const rows: number[] = [];
  const groups: number[] = [];
  const sum = new Float64Array(F);
  const cnt = new Float64Array(F);
  const push = (c: number) => {
    for (let k = 0; k < F; k++) {
      const v = (scratch.f[k] as Float64Array)[c] as number;
      rows.push(v);
      if (v > 0) {
        sum[k] = (sum[k] as number) + v;
        cnt[k] = (cnt[k] as number) + 1;
      }
    }
    rows.push(pop[c] as number);
    for (const g of dense) rows.push(g[c] as number);
  };
  for (let u = 0; u < want; u++) {
    const t = targets[order[u] as number] as { shopper: number; item: number };
    const full = (data.shoppers[t.shopper] as { items: Int32Array }).items;
    const seen = new Set(full);
    scratch.reset();
    collectFeatures(st, historyOf(full.subarray(0, full.length - 1)), shape, scratch);
    push(t.item);
    let got = 0;
    let guard = 0;
    while (got < negs && guard++ < negs * 20) {
      const c = Math.floor(rng() * n);
      if (seen.has(c)) continue;
      push(c);
      got++;
    }
    groups.push(got);
  }
  scratch.reset();
  const scale = Float64Array.from(sum, (v, k) => ((cnt[k] as number) > 0 ? v / (cnt[k] as number) : 1));
  // Design matrix: z(x, p) of every row (see `design`).
  const R = F + 1 + DENSE;
  const rowsCount = rows.length / R;
  const Z = new Float64Array(rowsCount * DW);
  const raw = new Float64Array(F);
  for (let r = 0; r < rowsCount; r++) {
    for (let k = 0; k < F; k++) raw[k] = rows[r * R + k] as number;
    design(raw, rows[r * R + F] as number, scale, Z, r * DW);
    for (let j = 0; j < DENSE; j++) Z[r * DW + D + j] = rows[r * R + F + 1 + j] as number;
  }
  // Binned interaction tables: quantile bins of each positive feature × popularity bins.
  const edges: Float64Array[] = [];
  for (let k = 0; k < F; k++) {
    const vals: number[] = [];
    for (let r = 0; r < rowsCount; r++) {
      const v = rows[r * R + k] as number;
      if (v > 0) vals.push(v);
    }
    edges.push(quantileEdges(vals, BINS));
  }
  const popVals: number[] = [];
  for (let r = 0; r < rowsCount; r++) popVals.push(rows[r * R + F] as number);
  const popEdges = quantileEdges(popVals, POP_BINS);
  const cells = new Int32Array(rowsCount * F);
  for (let r = 0; r < rowsCount; r++) {
    for (let k = 0; k < F; k++) raw[k] = rows[r * R + k] as number;
    tableCells(raw, rows[r * R + F] as number, edges, popEdges, cells, r * F);
  }
  const table = new Float64Array(F * (BINS + 1) * POP_BINS);
  const tableRate = options.tableRate ?? 0.02;
  const tableL2 = options.tableL2 ?? 1e-3;
  const w = new Float64Array(DW);
  for (let k = 0; k < F; k++) w[k] = 1;
  w[POP] = 1;
  const lr0 = options.learningRate ?? 0.05;
  const l2 = options.l2 ?? 1e-4;
  const epochs = options.epochs ?? 8;
  const starts: number[] = [];
  let at = 0;
  for (const g of groups) {
    starts.push(at);
    at += (g + 1) * DW;
  }
  const userOrder = Int32Array.from(groups.keys());
  for (let ep = 0; ep < epochs; ep++) {
    const lr = lr0 / (1 + ep);
    for (let i = userOrder.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      const t = userOrder[i] as number;
      userOrder[i] = userOrder[j] as number;
      userOrder[j] = t;
    }
    for (const u of userOrder) {
      const base = starts[u] as number;
      const g = groups[u] as number;
      const rowBase = base / DW;
      let sp = 0;
      for (let k = 0; k < DW; k++) sp += (w[k] as number) * (Z[base + k] as number);
      for (let k = 0; k < F; k++) {
        const cell = cells[rowBase * F + k] as number;
        if (cell >= 0) sp += table[cell] as number;
      }
      for (let q = 1; q <= g; q++) {
        const nb = base + q * DW;
        let sn = 0;
        for (let k = 0; k < DW; k++) sn += (w[k] as number) * (Z[nb + k] as number);
        for (let k = 0; k < F; k++) {
          const cell = cells[(rowBase + q) * F + k] as number;
          if (cell >= 0) sn += table[cell] as number;
        }
        const x = sp - sn;
        // d/dw of log(1 + e^{−x}) = −σ(−x) · (pos − neg)
        const gcoef = 1 / (1 + Math.exp(x));
        for (let k = 0; k < DW; k++) {
          const d = (Z[base + k] as number) - (Z[nb + k] as number);
          const v = (w[k] as number) + lr * (gcoef * d - l2 * (w[k] as number));
          // Evidence and popularity weights stay ≥ 0; interaction terms are free.
          w[k] = NONNEG[k] && v < 0 ? 0 : v;
        }
        const tr = (tableRate * lr) / lr0;
        for (let k = 0; k < F; k++) {
          const cp = cells[rowBase * F + k] as number;
          if (cp >= 0) table[cp] = (table[cp] as number) + tr * (gcoef - tableL2 * (table[cp] as number));
          const cn = cells[(rowBase + q) * F + k] as number;
          if (cn >= 0) table[cn] = (table[cn] as number) - tr * (gcoef + tableL2 * (table[cn] as number));
        }
      }
    }
  }
  return { w, scale, pop: w[POP] as number, edges, popEdges, table };
}

/** A fitted ranker: statistics of all the data it was given + learned weights. */
export function rankerModel(
  data: TrainingData,
  st: PairStats,
  weights: RankerWeights,
  shape: RankerShape,
  params: Readonly<Record<string, number | string>>,
): RecommenderModel {
  const scratch = new FeatureScratch(st.n);
  const logpop = logPopularity(st.count);
  // Dense part of the score: popularity and the item-level features; normalised into the prior.
  const dense = itemFeatures(data);
  const ds = Float64Array.from(logpop, (p, c) => {
    let v = (weights.w[POP] as number) * p;
    for (let j = 0; j < DENSE; j++)
      v += (weights.w[D + j] as number) * ((dense[j] as Float64Array)[c] as number);
    return v;
  });
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of ds) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const range = hi > lo ? hi - lo : 0;
  const prior = Float64Array.from(ds, (v) => (range > 0 ? (v - lo) / range : 0));
  const neighbourCache = new Map<number, readonly Neighbour[]>();
  const raw = new Float64Array(F);
  const z = new Float64Array(D);
  const cells = new Int32Array(F);
  const model: RecommenderModel = {
    name: 'ranker',
    vocab: data.vocab,
    prior,
    // Strictly positive so the rankers apply it (a zero weight would fall back to a tie-break).
    priorWeight: Math.max(range, 1e-9),
    sequential: true,
    params,
    scoreInto(history, acc: ScoreAccumulator, scale = 1) {
      scratch.reset();
      collectFeatures(st, history, shape, scratch);
      for (const c of scratch.touched) {
        for (let k = 0; k < F; k++) raw[k] = (scratch.f[k] as Float64Array)[c] as number;
        const p = logpop[c] as number;
        design(raw, p, weights.scale, z, 0);
        let v = 0;
        for (let k = 0; k < POP; k++) v += (weights.w[k] as number) * (z[k] as number);
        tableCells(raw, p, weights.edges, weights.popEdges, cells, 0);
        for (let k = 0; k < F; k++) {
          const cell = cells[k] as number;
          if (cell >= 0) v += weights.table[cell] as number;
        }
        // Negative evidence counts as none (the candidate keeps its popularity place).
        if (v > 0) acc.add(c, scale * v);
      }
      scratch.reset();
    },
    neighbours(idx) {
      let list = neighbourCache.get(idx);
      if (!list) {
        list = itemNeighbours(model, idx, 50);
        neighbourCache.set(idx, list);
      }
      return list;
    },
  };
  return model;
}

/** The model's evidence for "shopper just touched `idx`": a precomputable per-item list. */
function itemNeighbours(model: RecommenderModel, idx: number, k: number): Neighbour[] {
  const n = model.vocab.items.length;
  const acc = new (class {
    readonly values = new Float64Array(n);
    readonly touched: number[] = [];
    add(i: number, v: number) {
      if (this.values[i] === 0) this.touched.push(i);
      this.values[i] = (this.values[i] as number) + v;
    }
  })();
  model.scoreInto([{ idx, weight: 1, ts: 0 }], acc as unknown as ScoreAccumulator);
  const w = model.priorWeight ?? 0;
  const out: Neighbour[] = [];
  for (const c of acc.touched) {
    if (c !== idx) out.push({ idx: c, score: (acc.values[c] as number) + w * (model.prior[c] as number) });
  }
  out.sort((a, b) => b.score - a.score || a.idx - b.idx);
  return out.slice(0, k);
}

const statsMemo = new WeakMap<TrainingData, Map<string, PairStats>>();
function statsOf(data: TrainingData, options: PairStatsOptions): PairStats {
  let m = statsMemo.get(data);
  if (!m) {
    m = new Map();
    statsMemo.set(data, m);
  }
  const key = JSON.stringify(options);
  let st = m.get(key);
  if (!st) {
    st = pairStats(data, options);
    m.set(key, st);
  }
  return st;
}

/** The learned ranker as a `ModelFactory` (grid: history decays, tuned on validation). */
export const rankerModelFactory: ModelFactory = {
  name: 'ranker',
  description: 'learned pairwise ranker over transitions, co-occurrence, two-hop and popularity features',
  grid: [{ seqDecay: 0.7, coDecay: 0.95 }],
  fit(data, params) {
    const shape: RankerShape = {
      seqDecay: params.seqDecay ?? 0.5,
      coDecay: params.coDecay ?? 0.85,
      maxHistory: params.maxHistory ?? 20,
      hopHistory: params.hopHistory ?? 20,
    };
    const seed = params.seed ?? 1;
    const statsOptions: PairStatsOptions = {
      hopNeighbours: params.hopNeighbours ?? 50,
      cosNeighbours: params.cosNeighbours ?? 50,
      hopKeep: params.hopKeep ?? 1000,
    };
    const weights = trainRankerWeights(
      data,
      shape,
      { seed, tableRate: params.tableRate ?? 0.02, users: params.trainUsers ?? 16000, negatives: 16 },
      statsOptions,
    );
    const st = statsOf(data, statsOptions);
    const learned: Record<string, number> = { pop: round(weights.pop) };
    RANKER_FEATURES.forEach((name, k) => {
      learned[`w_${name}`] = round(weights.w[k] as number);
      learned[`w_${name}_pop`] = round(weights.w[F + k] as number);
      learned[`s_${name}`] = round(weights.scale[k] as number);
    });
    DENSE_FEATURES.forEach((name, j) => {
      learned[`w_${name}`] = round(weights.w[D + j] as number);
    });
    learned.w_any = round(weights.w[2 * F] as number);
    learned.w_any_pop = round(weights.w[2 * F + 1] as number);
    return rankerModel(data, st, weights, shape, { ...shape, ...statsOptions, seed, ...learned });
  },
};

function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}
