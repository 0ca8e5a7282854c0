-- Name search, faster (issue 8, point 2 budget; `cargo xtask bench search`).
--
-- Migration 0011 ranked every row that passed the fuzzy test
-- `norm <% name_norm`. One very common word can carry that test on its own
-- ("muhammad ahmed": "muhammad" gives 9 of its 15 trigrams), so in a clinic of
-- 200,000 patients 39,000 "Muhammad …" rows were read, scored and sorted for
-- one page: 300–770 ms alone, seconds under load.
--
-- The exact tiers always rank before the fuzzy one, so they are now answered
-- first, each by an index range that stops after a page:
--   0  the name as typed                  (tenant_id, name_key)
--   1  the canonical name                 (tenant_id, name_norm), nearest
--                                          spelling to the typed one first
--   2  canonical name starting with it    (tenant_id, name_norm) in order
--   3  name starting with what was typed  (tenant_id, name_key) in order
-- A row keeps its best tier. Only when these leave the page short does the
-- fuzzy tier 4 run (trigram word similarity of the canonical forms at
-- pg_trgm's 0.6, by similarity). A threshold of 0.7 made the fuzzy tier
-- cheaper but found only 17 of 42 one-letter typos in the bench (against
-- ~38 at 0.6), so typos keep 0.6 and stay the slow case in a very large
-- clinic. Tenant, ownership (healipro_definer, migration 0014), search_path
-- and grants are unchanged.
--
-- ROWS 25 (a page): with the default estimate of 1,000 rows, the server's
-- generic plan hash-joined the answer to every row of the clinic (200,000
-- rows read, 180 ms) instead of looking its 25 rows up by primary key.

CREATE INDEX patients_tenant_name_norm ON clinic.patients (tenant_id, name_norm);

CREATE OR REPLACE FUNCTION clinic.patient_name_matches(typed text, norm text, lim bigint, off bigint)
    RETURNS TABLE (patient_id uuid, rank bigint)
    LANGUAGE sql STABLE SECURITY DEFINER ROWS 25
    SET search_path = pg_catalog, public, pg_temp
AS $$
WITH exact AS (
    SELECT DISTINCT ON (u.id) u.id, u.tier, u.a, u.k
      FROM ((SELECT p.id, 0 AS tier, 0::real AS a, p.name_key AS k
               FROM clinic.patients p
              WHERE p.tenant_id = clinic.current_tenant() AND p.name_key = typed
              ORDER BY p.id LIMIT lim + off)
            UNION ALL
            (SELECT p.id, 1, similarity(p.name_key, typed), p.name_key
               FROM clinic.patients p
              WHERE p.tenant_id = clinic.current_tenant() AND p.name_norm = norm
              ORDER BY similarity(p.name_key, typed) DESC, p.name_key, p.id LIMIT lim + off)
            UNION ALL
            (SELECT p.id, 2, 0, p.name_norm
               FROM clinic.patients p
              WHERE p.tenant_id = clinic.current_tenant()
                AND p.name_norm >= norm AND p.name_norm < norm || chr(1114111)
              ORDER BY p.name_norm, p.id LIMIT lim + off)
            UNION ALL
            (SELECT p.id, 3, 0, p.name_key
               FROM clinic.patients p
              WHERE p.tenant_id = clinic.current_tenant()
                AND p.name_key >= typed AND p.name_key < typed || chr(1114111)
              ORDER BY p.name_key, p.id LIMIT lim + off)) AS u
     ORDER BY u.id, u.tier, u.a DESC
),
fuzzy AS (
    SELECT p.id, 4 AS tier, similarity(p.name_norm, norm) AS a,
           similarity(p.name_key, typed) AS b, p.name_key AS k
      FROM clinic.patients p
     WHERE (SELECT count(*) FROM exact) < lim + off
       AND p.tenant_id = clinic.current_tenant()
       AND norm <% p.name_norm
       AND NOT EXISTS (SELECT 1 FROM exact e WHERE e.id = p.id)
     ORDER BY a DESC, b DESC, p.name_key, p.id
     LIMIT lim + off
),
ranked AS (
    SELECT e.id, e.tier, e.a, 0::real AS b, e.k FROM exact e
    UNION ALL
    SELECT f.id, f.tier, f.a, f.b, f.k FROM fuzzy f
)
SELECT r.id, row_number() OVER (ORDER BY r.tier, r.a DESC, r.b DESC, r.k, r.id)
  FROM ranked r
 ORDER BY r.tier, r.a DESC, r.b DESC, r.k, r.id
 LIMIT lim OFFSET off
$$;
