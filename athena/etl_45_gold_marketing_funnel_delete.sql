-- gold.marketing_funnel, step 1 of 2: rebuilt every run from silver (a deal closing later
-- changes the row of its lead's first-contact month).
-- Params: none.
DELETE FROM gold.marketing_funnel WHERE month IS NOT NULL
