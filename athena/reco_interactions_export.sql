-- Recommender training, step 2: the interactions of one training run, in the CSV layout the
-- training Lambda reads (user_id,item_id,timestamp[ms],event_type,session_id,category).
-- Parameters: :model_version
SELECT
  i.shopper AS user_id,
  i.item_id,
  CAST(to_unixtime(i.event_time) * 1000 AS bigint) AS "timestamp",
  i.event_type,
  i.session_id,
  i.category
FROM ml.interactions i
WHERE i.model_version = CAST(:model_version AS varchar)
ORDER BY i.shopper, i.event_time, i.item_id, i.event_type
