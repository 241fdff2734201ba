-- Recommender training, step 3: item-to-item co-occurrence (Linden, Smith & York 2003;
-- Smith & Linden 2017) over the interactions of one training run, top-K neighbours per item.
-- The same definitions as lambdas/shared/recommender/cooccurrence.ts (a test checks both
-- agree on the same data):
--   basket b   = one shopper's distinct items, the :max_basket_items most recent
--                (ties: item id ascending); w_bi = strongest event weight of item i in b
--   co(i,j)    = sum_b w_bi * w_bj;  pairs(i,j) = baskets holding both (>= :min_pairs)
--   cosine     = co(i,j) / sqrt(sum_b w_bi^2 * sum_b w_bj^2)
--   expected   = S_i * n_j / N,  S_i = sum_{b contains i} (|b| - 1), n_j = baskets with j,
--                N = sum_b |b|
--   chance     = (pairs - expected) / sqrt(expected)   ("more often than chance")
-- Neighbours are ranked by cosine (ties: neighbour id ascending), :neighbours kept per item.
-- Parameters: :model_version, :max_basket_items, :min_pairs, :neighbours
WITH params AS (
  SELECT
    CAST(:model_version AS varchar) AS model_version,
    CAST(:max_basket_items AS bigint) AS max_basket_items,
    CAST(:min_pairs AS bigint) AS min_pairs,
    CAST(:neighbours AS bigint) AS neighbours
),
basket_items AS (
  SELECT i.shopper, i.item_id, max(i.weight) AS w, max(i.event_time) AS last_time
  FROM ml.interactions i
  CROSS JOIN params p
  WHERE i.model_version = p.model_version
  GROUP BY i.shopper, i.item_id
),
ranked_items AS (
  SELECT
    shopper,
    item_id,
    w,
    row_number() OVER (PARTITION BY shopper ORDER BY last_time DESC, item_id ASC) AS recency_rank
  FROM basket_items
),
baskets AS (
  SELECT r.shopper, r.item_id, r.w
  FROM ranked_items r
  CROSS JOIN params p
  WHERE r.recency_rank <= p.max_basket_items
),
basket_sizes AS (
  SELECT shopper, count(*) AS size FROM baskets GROUP BY shopper
),
item_stats AS (
  SELECT b.item_id, count(*) AS n, sum(b.w * b.w) AS norm, sum(s.size - 1) AS spread
  FROM baskets b
  JOIN basket_sizes s ON s.shopper = b.shopper
  GROUP BY b.item_id
),
totals AS (
  SELECT sum(size) AS total FROM basket_sizes
),
pairs AS (
  SELECT a.item_id, b.item_id AS neighbour_id, sum(a.w * b.w) AS co, count(*) AS pair_count
  FROM baskets a
  JOIN baskets b ON b.shopper = a.shopper AND b.item_id <> a.item_id
  GROUP BY a.item_id, b.item_id
),
scored AS (
  SELECT
    x.item_id,
    x.neighbour_id,
    x.co,
    x.pair_count,
    x.co / sqrt(si.norm * sj.norm) AS cosine,
    CAST(si.spread AS double) * sj.n / t.total AS expected
  FROM pairs x
  CROSS JOIN params p
  CROSS JOIN totals t
  JOIN item_stats si ON si.item_id = x.item_id
  JOIN item_stats sj ON sj.item_id = x.neighbour_id
  WHERE x.pair_count >= p.min_pairs
),
ranked AS (
  SELECT
    item_id,
    neighbour_id,
    co,
    pair_count,
    cosine,
    CASE WHEN expected > 0 THEN (pair_count - expected) / sqrt(expected) ELSE 0 END AS chance,
    row_number() OVER (PARTITION BY item_id ORDER BY cosine DESC, neighbour_id ASC) AS neighbour_rank
  FROM scored
)
SELECT r.item_id, r.neighbour_id, r.co, r.pair_count, r.cosine, r.chance, r.neighbour_rank
FROM ranked r
CROSS JOIN params p
WHERE r.neighbour_rank <= p.neighbours
ORDER BY r.item_id, r.neighbour_rank
