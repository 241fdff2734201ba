-- gold.rec_impression_ctr per day, model version and position: the true click-through rate of
-- recommendations. Denominator: impressions (`recommendation_impression` events; the items
-- shown are attributes['rec_items'], ids joined by ',' in position order, and the serving
-- version attributes['model_version'], both validated at ingest). Numerator: impressions whose
-- item at that position was clicked — a product view carrying the same rec_id and product id,
-- on any day. An impression re-sent under another event_id counts once (distinct rec_id).
-- Recomputed for the days of this run's impressions and for the impression days of this run's
-- clicks (a click can arrive after its impression's day). Params: :run_id.
MERGE INTO gold.rec_impression_ctr t
USING (
  WITH new_clicks AS (
    SELECT DISTINCT e.rec_id FROM silver.events e
    WHERE e.etl_run_id = :run_id AND e.event_type = 'product_view' AND e.rec_id IS NOT NULL
  ),
  affected AS (
    SELECT DISTINCT i.event_date AS d
    FROM silver.events i
    WHERE i.event_type = 'recommendation_impression'
      AND (i.etl_run_id = :run_id OR i.rec_id IN (SELECT rec_id FROM new_clicks))
  ),
  impressions AS (
    SELECT DISTINCT
      i.event_date,
      i.rec_id,
      i.attributes['model_version'] AS model_version,
      i.attributes['rec_items'] AS rec_items
    FROM silver.events i
    WHERE i.event_type = 'recommendation_impression' AND i.event_date IN (SELECT d FROM affected)
  ),
  -- One impression per rec_id (its first day if re-sent on several).
  firsts AS (
    SELECT rec_id, min(event_date) AS event_date, min(model_version) AS model_version, min(rec_items) AS rec_items
    FROM impressions
    GROUP BY rec_id
  ),
  shown AS (
    SELECT f.event_date, f.model_version, f.rec_id, p.position, split(f.rec_items, ',')[p.position] AS product_id
    FROM firsts f
    CROSS JOIN UNNEST(sequence(1, cardinality(split(f.rec_items, ',')))) AS p(position)
  ),
  clicks AS (
    SELECT DISTINCT c.rec_id, c.product_id
    FROM silver.events c
    WHERE c.event_type = 'product_view' AND c.rec_id IN (SELECT rec_id FROM firsts)
  )
  SELECT
    s.event_date,
    s.model_version,
    CAST(s.position AS integer) AS position,
    count(*) AS impressions,
    count(c.rec_id) AS clicks,
    CAST(count(c.rec_id) AS double) / nullif(count(*), 0) AS ctr
  FROM shown s
  LEFT JOIN clicks c ON c.rec_id = s.rec_id AND c.product_id = s.product_id
  GROUP BY 1, 2, 3
) s
ON t.event_date = s.event_date AND t.model_version = s.model_version AND t.position = s.position
WHEN MATCHED THEN
  UPDATE SET impressions = s.impressions, clicks = s.clicks, ctr = s.ctr, etl_run_id = :run_id
WHEN NOT MATCHED THEN
  INSERT (event_date, model_version, position, impressions, clicks, ctr, etl_run_id)
  VALUES (s.event_date, s.model_version, s.position, s.impressions, s.clicks, s.ctr, :run_id)
