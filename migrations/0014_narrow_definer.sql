-- `clinic.patient_name_matches` (migration 0011) must run past row-level
-- security to use the trigram index, so it is SECURITY DEFINER. Until now it
-- ran as `healipro_owner`, which owns every object and may write anything.
-- It now runs as `healipro_definer`: NOLOGIN (nobody signs in as it),
-- BYPASSRLS, and able to read only the four columns of `clinic.patients` the
-- ranking needs (no identifiers, no other table, no writes). A bug or an
-- injection in a definer function can then at worst read names within that
-- reach. The tenant filter stays in the function, from
-- `clinic.current_tenant()`, never from a parameter. The catalog meta-test
-- (`selftest::definer_functions`) checks every SECURITY DEFINER function in
-- `clinic` and `platform` for exactly this shape.
--
-- The role is created with the others by the cluster bootstrap (BYPASSRLS
-- needs a superuser): `xtask/src/pg.rs` in development, the DBA in production:
--   CREATE ROLE healipro_definer NOLOGIN BYPASSRLS NOINHERIT;
--   GRANT healipro_definer TO healipro_owner;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'healipro_definer') THEN
        RAISE EXCEPTION 'role healipro_definer is missing: as a superuser run '
            'CREATE ROLE healipro_definer NOLOGIN BYPASSRLS NOINHERIT; '
            'GRANT healipro_definer TO healipro_owner; then migrate again';
    END IF;
END
$$;

GRANT USAGE ON SCHEMA clinic TO healipro_definer;
GRANT SELECT (tenant_id, id, name_key, name_norm) ON clinic.patients TO healipro_definer;
GRANT EXECUTE ON FUNCTION clinic.current_tenant() TO healipro_definer;

-- A new owner needs CREATE on the function's schema at the moment of the
-- change, not afterwards.
GRANT CREATE ON SCHEMA clinic TO healipro_definer;
ALTER FUNCTION clinic.patient_name_matches(text, text, bigint, bigint) OWNER TO healipro_definer;
REVOKE CREATE ON SCHEMA clinic FROM healipro_definer;
-- Owner changes keep the ACL; say it again so this file reads whole.
REVOKE ALL ON FUNCTION clinic.patient_name_matches(text, text, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinic.patient_name_matches(text, text, bigint, bigint) TO healipro_app;
