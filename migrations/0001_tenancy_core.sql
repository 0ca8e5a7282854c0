-- Purpose: the tenancy core every later table builds on.
--
-- Two schemas: `platform` holds no PHI (the list of tenants), `clinic` holds all
-- tenant data. Every `clinic` table has `tenant_id`, a primary key and unique keys
-- led by it, ENABLE + FORCE row-level security, and exactly one PERMISSIVE policy
-- for all commands: `tenant_id = clinic.current_tenant()`. No tenant set => no rows
-- (fail closed). The catalog meta-test (`healipro selftest isolation`) fails if a
-- table is added without this shape.
--
-- Runs as `healipro_owner`. The runtime role `healipro_app` (NOSUPERUSER,
-- NOBYPASSRLS, owns nothing) gets DML table by table, never TRUNCATE, REFERENCES or
-- TRIGGER.

CREATE SCHEMA platform;
CREATE SCHEMA clinic;
REVOKE ALL ON SCHEMA platform, clinic FROM PUBLIC;
GRANT USAGE ON SCHEMA platform, clinic TO healipro_app;

CREATE TABLE platform.tenants (
    id          uuid PRIMARY KEY,
    code        text NOT NULL UNIQUE CHECK (code ~ '^[a-z][a-z0-9-]{1,31}$'),
    name        text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    tier        text NOT NULL DEFAULT 'clinic' CHECK (tier IN ('clinic', 'hospital')),
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- The server resolves a clinic code at login; creating tenants is an operator job.
GRANT SELECT ON platform.tenants TO healipro_app;

-- The one place the tenant is read. STABLE and plain SQL so the planner inlines it
-- and the tenant test becomes part of the primary-key index condition. Citus rejects
-- subqueries in policies, so no `(SELECT ...)` wrapper.
CREATE FUNCTION clinic.current_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;

-- The one place the tenant is set: transaction-local, so nothing leaks through a
-- pooled connection. Outside a transaction block SET LOCAL has no effect (fail closed).
CREATE FUNCTION clinic.set_tenant(tenant uuid) RETURNS void
    LANGUAGE plpgsql VOLATILE
    AS $$
BEGIN
    IF tenant IS NULL THEN
        RAISE EXCEPTION 'clinic.set_tenant: tenant must not be null';
    END IF;
    EXECUTE format('SET LOCAL app.tenant_id = %L', tenant::text);
END
$$;
REVOKE ALL ON FUNCTION clinic.set_tenant(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clinic.set_tenant(uuid) TO healipro_app;
GRANT EXECUTE ON FUNCTION clinic.current_tenant() TO healipro_app;

CREATE TABLE clinic.users (
    tenant_id      uuid NOT NULL REFERENCES platform.tenants (id),
    id             uuid NOT NULL DEFAULT gen_random_uuid(),
    username       text NOT NULL CHECK (username ~ '^[a-z0-9._-]{2,64}$'),
    display_name   text NOT NULL CHECK (length(btrim(display_name)) BETWEEN 1 AND 200),
    password_hash  text NOT NULL,
    roles          text[] NOT NULL CHECK (
                       cardinality(roles) >= 1
                       AND roles <@ ARRAY['admin', 'doctor', 'operator', 'pharmacist', 'lab_tech', 'auditor']),
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, username)
);

-- Server-side sessions: the cookie carries the tenant and a random token; only the
-- token's SHA-256 is stored, so a database dump yields no usable session.
CREATE TABLE clinic.sessions (
    tenant_id          uuid NOT NULL,
    id                 uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id            uuid NOT NULL,
    token_hash         bytea NOT NULL CHECK (length(token_hash) = 32),
    created_at         timestamptz NOT NULL DEFAULT now(),
    last_seen_at       timestamptz NOT NULL DEFAULT now(),
    idle_timeout_secs  integer NOT NULL CHECK (idle_timeout_secs > 0),
    expires_at         timestamptz NOT NULL,
    revoked_at         timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, token_hash),
    FOREIGN KEY (tenant_id, user_id) REFERENCES clinic.users (tenant_id, id)
);

CREATE TABLE clinic.patients (
    tenant_id               uuid NOT NULL REFERENCES platform.tenants (id),
    id                      uuid NOT NULL DEFAULT gen_random_uuid(),
    -- COLLATE "C" so prefix search can be an index range (LIKE is not LEAKPROOF
    -- and would run as a filter under RLS).
    mr_number               text COLLATE "C" NOT NULL CHECK (mr_number ~ '^[A-Z0-9-]{1,24}$'),
    full_name               text NOT NULL CHECK (length(btrim(full_name)) BETWEEN 1 AND 200),
    father_or_husband_name  text NOT NULL DEFAULT '',
    sex                     text NOT NULL CHECK (sex IN ('female', 'male', 'other')),
    date_of_birth           date,
    created_at              timestamptz NOT NULL DEFAULT now(),
    name_key                text COLLATE "C" GENERATED ALWAYS AS (lower(full_name)) STORED,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, mr_number)
);
CREATE INDEX patients_tenant_name_key ON clinic.patients (tenant_id, name_key);

ALTER TABLE clinic.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE clinic.users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON clinic.users FOR ALL
    USING (tenant_id = clinic.current_tenant()) WITH CHECK (tenant_id = clinic.current_tenant());

ALTER TABLE clinic.sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE clinic.sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON clinic.sessions FOR ALL
    USING (tenant_id = clinic.current_tenant()) WITH CHECK (tenant_id = clinic.current_tenant());

ALTER TABLE clinic.patients ENABLE ROW LEVEL SECURITY;
ALTER TABLE clinic.patients FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON clinic.patients FOR ALL
    USING (tenant_id = clinic.current_tenant()) WITH CHECK (tenant_id = clinic.current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON clinic.users, clinic.sessions, clinic.patients TO healipro_app;
