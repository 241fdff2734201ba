/**
 * Evidence for issue 4, not a shipped model: does an item-item model that propagates evidence
 * beyond direct co-occurrence — EASE (Steck 2019, "Embarrassingly Shallow Autoencoders":
 * B = I − P·diag(1/diag P), P = (XᵀX + λI)⁻¹, zero diagonal) — beat popularity on the UCI sample
 * where item-to-item co-occurrence does not? Same `evaluate()` as `shoplake evaluate`
 * (loo-sampled, seed 42, 100 sampled negatives); each λ is fitted once on train + validation and
 * reported as is (no choice among them is made on test). Dense n×n inverse: about a minute per λ
 * for the sample's 2,871 items on one core. Run:
 *
 *   npx tsx bench/uci-ease.ts [path/to/online_retail_sample.csv] [--lambda 50,500,3000] [--generated]
 */
import { popularity } from '../lambdas/shared/recommender/cooccurrence.ts';
import { evaluate } from '../lambdas/shared/recommender/evaluate.ts';
import { itemCfModel, popularityModel } from '../lambdas/shared/recommender/models.ts';
import type { Interaction, ModelFactory } from '../lambdas/shared/recommender/types.ts';
import { generatedInteractions, UCI_SAMPLE, uciInteractions } from './uci-cf-analysis.ts';

function choleskyInverse(a: Float64Array, n: number): Float64Array {
  // a: SPD, row-major; in-place Cholesky a = L Lᵀ (lower), then inverse = L⁻ᵀ L⁻¹.
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = a[rj + j] as number;
    for (let k = 0; k < j; k++) d -= (a[rj + k] as number) ** 2;
    const ljj = Math.sqrt(d);
    a[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = a[ri + j] as number;
      for (let k = 0; k < j; k++) s -= (a[ri + k] as number) * (a[rj + k] as number);
      a[ri + j] = s / ljj;
    }
  }
  // Linv (lower) by forward substitution, stored in m.
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    m[i * n + i] = 1 / (a[i * n + i] as number);
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let k = j; k < i; k++) s += (a[i * n + k] as number) * (m[k * n + j] as number);
      m[i * n + j] = -s / (a[i * n + i] as number);
    }
  }
  // P = Linvᵀ Linv
  const p = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += (m[k * n + i] as number) * (m[k * n + j] as number);
      p[i * n + j] = s;
      p[j * n + i] = s;
    }
  return p;
}

const easeModel = (lambda: number): ModelFactory => ({
  name: `ease λ=${lambda}`,
  description: 'EASE (Steck 2019)',
  grid: [{ lambda }],
  fit(data, params) {
    const n = data.vocab.items.length;
    const lambda = params.lambda ?? 100;
    // Gram matrix XᵀX of the binary shopper × item matrix, plus λ on the diagonal.
    const g = new Float64Array(n * n);
    for (const s of data.shoppers)
      for (const x of s.items) for (const y of s.items) g[x * n + y] = (g[x * n + y] ?? 0) + 1;
    for (let i = 0; i < n; i++) g[i * n + i] = (g[i * n + i] ?? 0) + lambda;
    const t0 = performance.now();
    const p = choleskyInverse(g, n);
    process.stderr.write(`ease fit n=${n} λ=${lambda} ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    // B = -P / diag(P), zero diagonal; B[j][i] = -P[j][i] / P[i][i]
    const b = p;
    const diag = new Float64Array(n);
    for (let i = 0; i < n; i++) diag[i] = p[i * n + i] as number;
    for (let j = 0; j < n; j++)
      for (let i = 0; i < n; i++)
        b[j * n + i] = i === j ? 0 : -(p[j * n + i] as number) / (diag[i] as number);
    const prior = popularity(data, 90);
    return {
      name: 'ease',
      vocab: data.vocab,
      prior,
      params: { lambda },
      scoreInto(history, acc, scale = 1) {
        for (const h of history) {
          const row = h.idx * n;
          for (let i = 0; i < n; i++) {
            const v = b[row + i] as number;
            if (v !== 0) acc.add(i, scale * v);
          }
        }
      },
      neighbours: () => [],
    };
  },
});

const args = process.argv.slice(2);
const at = args.indexOf('--lambda');
const lambdas = at >= 0 ? (args[at + 1] ?? '').split(',').map(Number) : [50, 500, 3000];
const file = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--lambda');
const sets: [string, Interaction[]][] = [['UCI sample', uciInteractions(file ?? UCI_SAMPLE)]];
// The generated shop of docs/recommender.md, where item-to-item co-occurrence does win: a check
// that this EASE is a working one.
if (args.includes('--generated')) sets.push(['generated (seed 7, 100k events)', generatedInteractions()]);
for (const [label, interactions] of sets) {
  const report = evaluate(interactions, {
    protocol: 'loo-sampled',
    models: [popularityModel, itemCfModel, ...lambdas.map(easeModel)],
    seed: 42,
  });
  process.stdout.write(`\n## ${label}\n`);
  for (const x of report.results) {
    const hr = x.metrics['HR@10'] ?? 0;
    const pop = report.results[0]?.metrics['HR@10'] ?? 1;
    process.stdout.write(
      `${x.model.padEnd(14)} HR@10 ${hr.toFixed(4)}  NDCG@10 ${(x.metrics['NDCG@10'] ?? 0).toFixed(4)}  vs popularity ${((hr / pop - 1) * 100).toFixed(1)} %\n`,
    );
  }
}
