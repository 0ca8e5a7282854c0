-- Name search: the fuzzy tier matches word by word (issue 8, point 2 budget;
-- `cargo xtask bench search`).
--
-- Until now the fuzzy tier (migration 0015) kept a patient when pg_trgm's
-- word similarity of the whole typed name reached 0.6. One very common word
-- can pass that test on its own: "ehan khan" (for Ehsan Khan) matched the
-- 11,000 Khans of a 200,000-patient clinic, and "muhammad khalid bhatti"
-- almost a thousand others, and every one of them had to be read and scored
-- for one page (p95 110 ms under eight clients; budget 50 ms).
--
-- Now every typed word must match a word of the name:
--   1. each typed word (canonical form) is looked up in the clinic's
--      vocabulary, `clinic.patient_name_words`: the distinct words of its
--      patients' names, both as written ("marwatt", "ayeshah") and canonical
--      ("marwat", "ayesha"), each with its canonical form, so a letter
--      dropped from a variant spelling ("maratt") is one edit from what was
--      written even when two from the canonical word. A word is near a
--      typed word when it is at most 0 (typed word of 1–2 letters), 1 (3–6
--      letters) or 2 (7 or more) edits away (`levenshtein_less_equal`, fuzzystrmatch), or, for the last
--      typed word and for an initial, when it starts with it ("ayeha kh",
--      "s ali"). A word typed exactly is near no other typed word: in
--      "ehan khan", "khan" is one edit from "ehan" but is taken by "khan",
--      so a Khan needs a second word near "ehan" (Ehsan) to be kept;
--   2. a patient is kept when their name has a near word for every typed
--      word (up to four; more are used only for ranking): the array overlap
--      `&&` on the GIN index `patients_tenant_name_words`, so the rare word
--      decides how many rows are read, not the common one;
--   3. the kept patients are ranked as before: trigram similarity of the
--      canonical names, then of the names as typed.
-- A typed word with no near word in the clinic means no fuzzy match at all
-- (the exact tiers still answer). Against the 0.6 test this finds short
-- words with a typo ("sira khan" → Sidra Khan: trigram similarity cannot
-- tell "ehan" from "khan"), and no longer finds a name missing one of the
-- typed words (it rarely did: "muhammad ahmed raza" scored 0.57 against
-- "ahmed raza").
--
-- The vocabulary is kept by triggers on `clinic.patients`: after INSERT
-- (per statement, from the transition table) and after a change of the name
-- (per row), `ON CONFLICT DO NOTHING` (no row lock is held on a word that
-- exists). A word leaves it only with its clinic; it holds bare words,
-- never which patient has them. It is a clinic table like any other:
-- tenant_id, tenant-led key, forced RLS with the tenant policy. The search
-- function (healipro_definer, migration 0014) may read only its three
-- columns.
--
-- The trigram GIN index is no longer used by anything and goes: one index
-- less to maintain on every registration.

CREATE EXTENSION IF NOT EXISTS fuzzystrmatch WITH SCHEMA public;

CREATE TABLE clinic.patient_name_words (
    tenant_id  uuid NOT NULL REFERENCES platform.tenants (id),
    -- A word of a name as written (lowercase) or canonical.
    word       text COLLATE "C" NOT NULL CHECK (word <> '' AND word !~ '\s'),
    -- Its canonical form: one word, or two ("abdurrehman"), or none ("-").
    canonical  text COLLATE "C" NOT NULL GENERATED ALWAYS AS (clinic.normalize_name(word)) STORED,
    -- Covering: a search reads the clinic's words from the index alone
    -- (index-only once vacuumed; 316 heap pages for 316 words otherwise,
    -- the words of a thousand clinics being interleaved).
    PRIMARY KEY (tenant_id, word) INCLUDE (canonical)
);
ALTER TABLE clinic.patient_name_words ENABLE ROW LEVEL SECURITY;
ALTER TABLE clinic.patient_name_words FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON clinic.patient_name_words FOR ALL
    USING (tenant_id = clinic.current_tenant())
    WITH CHECK (tenant_id = clinic.current_tenant());
GRANT SELECT, INSERT ON clinic.patient_name_words TO healipro_app;
GRANT SELECT (tenant_id, word, canonical) ON clinic.patient_name_words TO healipro_definer;

-- The words of a name: as written (split at white space) and canonical.
CREATE FUNCTION clinic.name_words(name_key text, name_norm text) RETURNS SETOF text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
SELECT w FROM regexp_split_to_table(name_key, '\s+') AS w WHERE w <> ''
UNION
SELECT w FROM regexp_split_to_table(name_norm, ' ') AS w WHERE w <> ''
$$;

GRANT EXECUTE ON FUNCTION clinic.name_words(text, text) TO healipro_app;

INSERT INTO clinic.patient_name_words (tenant_id, word)
SELECT DISTINCT p.tenant_id, w.word
  FROM clinic.patients p, clinic.name_words(p.name_key, p.name_norm) AS w(word);

-- Run as the writer (the app under its tenant, so the policy checks each
-- word). Inserts by statement (a bulk load is one INSERT of its words);
-- updates by row, and only when the name changed, so that editing a phone
-- number costs nothing here.
CREATE FUNCTION clinic.patient_name_words_add() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO clinic.patient_name_words (tenant_id, word)
    SELECT DISTINCT n.tenant_id, w.word
      FROM changed n, clinic.name_words(n.name_key, n.name_norm) AS w(word)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE FUNCTION clinic.patient_name_words_rename() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO clinic.patient_name_words (tenant_id, word)
    SELECT NEW.tenant_id, w.word FROM clinic.name_words(NEW.name_key, NEW.name_norm) AS w(word)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER patient_name_words_on_insert AFTER INSERT ON clinic.patients
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION clinic.patient_name_words_add();
CREATE TRIGGER patient_name_words_on_rename AFTER UPDATE OF full_name ON clinic.patients
    FOR EACH ROW WHEN (OLD.full_name IS DISTINCT FROM NEW.full_name)
    EXECUTE FUNCTION clinic.patient_name_words_rename();

CREATE INDEX patients_tenant_name_words ON clinic.patients
    USING gin (tenant_id, string_to_array(name_norm, ' '));
DROP INDEX clinic.patients_tenant_name_trgm;

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
typed_words AS (
    SELECT t.w, t.i, t.i = max(t.i) OVER () AS last,
           CASE WHEN length(t.w) <= 2 THEN 0 WHEN length(t.w) <= 6 THEN 1 ELSE 2 END AS edits
      FROM unnest(string_to_array(norm, ' ')) WITH ORDINALITY AS t(w, i)
     WHERE t.w <> ''
),
-- The vocabulary words near each typed word; slot 1 has the fewest.
near AS (
    SELECT row_number() OVER (ORDER BY count(*), max(length(tw.w)) DESC, tw.i) AS slot,
           array_agg(DISTINCT c.word) AS words
      FROM typed_words tw
      JOIN clinic.patient_name_words v
        ON v.tenant_id = clinic.current_tenant()
       AND (levenshtein_less_equal(v.word, tw.w, tw.edits) <= tw.edits
            OR ((tw.last OR length(tw.w) = 1) AND starts_with(v.word, tw.w)))
       AND (v.word = tw.w OR v.word NOT IN (SELECT o.w FROM typed_words o))
     CROSS JOIN LATERAL unnest(string_to_array(v.canonical, ' ')) AS c(word)
     WHERE c.word <> ''
     GROUP BY tw.i
),
fuzzy AS (
    SELECT p.id, 4 AS tier, similarity(p.name_norm, norm) AS a,
           similarity(p.name_key, typed) AS b, p.name_key AS k
      FROM clinic.patients p
     WHERE (SELECT count(*) FROM exact) < lim + off
       AND (SELECT count(*) FROM near) = (SELECT count(*) FROM typed_words)
       AND p.tenant_id = clinic.current_tenant()
       AND string_to_array(p.name_norm, ' ') && (SELECT words FROM near WHERE slot = 1)
       AND string_to_array(p.name_norm, ' ')
           && coalesce((SELECT words FROM near WHERE slot = 2), (SELECT words FROM near WHERE slot = 1))
       AND string_to_array(p.name_norm, ' ')
           && coalesce((SELECT words FROM near WHERE slot = 3), (SELECT words FROM near WHERE slot = 1))
       AND string_to_array(p.name_norm, ' ')
           && coalesce((SELECT words FROM near WHERE slot = 4), (SELECT words FROM near WHERE slot = 1))
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
