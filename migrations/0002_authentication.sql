-- Purpose: authentication (DESIGN §7): forced password change, TOTP with
-- replay protection and recovery codes, login throttling and the sign-in log,
-- workstations with idle timeouts, tenant security settings, autosaved drafts,
-- and the JWT signing keys.
--
-- Every new clinic table follows the tenancy shape of 0001 (tenant_id, tenant-led
-- keys, ENABLE + FORCE RLS, one tenant policy); the catalog meta-test checks it.

-- Users: forced password change, TOTP state, last sign-in.
ALTER TABLE clinic.users
    ADD COLUMN must_change_password boolean NOT NULL DEFAULT false,
    -- XChaCha20-Poly1305 under the server key (the crypto issue moves it into the
    -- tenant key ring); associated data binds it to (tenant, user).
    ADD COLUMN totp_secret_enc   bytea,
    -- A secret shown on the enrolment page but not yet confirmed by a first code.
    ADD COLUMN totp_pending_enc  bytea,
    ADD COLUMN totp_enrolled_at  timestamptz,
    -- The last accepted RFC 6238 time step: a code is accepted only for a later step.
    ADD COLUMN totp_last_step    bigint NOT NULL DEFAULT 0,
    ADD COLUMN last_login_at     timestamptz;

-- Workstations: named devices a browser is bound to by a cookie; each has its idle
-- timeout (never above the tenant maximum, enforced by the server on save).
CREATE TABLE clinic.workstations (
    tenant_id          uuid NOT NULL REFERENCES platform.tenants (id),
    id                 uuid NOT NULL DEFAULT gen_random_uuid(),
    name               text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    location           text NOT NULL DEFAULT '' CHECK (length(location) <= 200),
    idle_timeout_secs  integer NOT NULL DEFAULT 600 CHECK (idle_timeout_secs BETWEEN 60 AND 43200),
    -- SHA-256 of the random secret in the binding cookie (NULL: no browser bound).
    bind_token_hash    bytea CHECK (length(bind_token_hash) = 32),
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);

-- Sessions: the JWT in the cookie names the session; the row is the truth
-- (revocation, idle timeout, second factor). The old random-token column goes.
DELETE FROM clinic.sessions;
ALTER TABLE clinic.sessions
    DROP COLUMN token_hash,
    ADD COLUMN workstation_id    uuid,
    ADD COLUMN client_ip         text,
    -- When this session passed the second factor (NULL: not yet).
    ADD COLUMN totp_verified_at  timestamptz,
    ADD FOREIGN KEY (tenant_id, workstation_id) REFERENCES clinic.workstations (tenant_id, id) ON DELETE SET NULL (workstation_id);
CREATE INDEX sessions_tenant_user ON clinic.sessions (tenant_id, user_id);

-- One row per clinic with its security settings (absent row = defaults).
CREATE TABLE clinic.tenant_settings (
    tenant_id          uuid NOT NULL REFERENCES platform.tenants (id),
    -- TOTP for every role, not only doctors and admins.
    totp_all_roles     boolean NOT NULL DEFAULT false,
    -- No workstation may set a longer idle timeout.
    max_idle_secs      integer NOT NULL DEFAULT 1800 CHECK (max_idle_secs BETWEEN 60 AND 43200),
    -- Idle timeout for browsers not bound to a workstation.
    default_idle_secs  integer NOT NULL DEFAULT 900 CHECK (default_idle_secs BETWEEN 60 AND 43200),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id),
    CHECK (default_idle_secs <= max_idle_secs)
);

-- Per-account throttling, keyed by the username as typed (lower-cased), whether
-- or not such a user exists: unknown and real accounts behave the same.
CREATE TABLE clinic.login_throttle (
    tenant_id        uuid NOT NULL REFERENCES platform.tenants (id),
    username         text NOT NULL CHECK (length(username) <= 64),
    failures         integer NOT NULL DEFAULT 0,
    last_failure_at  timestamptz,
    locked_until     timestamptz,
    PRIMARY KEY (tenant_id, username)
);

-- Every sign-in attempt that names a clinic (the audit issue routes these into
-- the audit log). No passwords, no PHI.
CREATE TABLE clinic.login_events (
    tenant_id  uuid NOT NULL REFERENCES platform.tenants (id),
    id         uuid NOT NULL DEFAULT gen_random_uuid(),
    at         timestamptz NOT NULL DEFAULT now(),
    username   text NOT NULL CHECK (length(username) <= 64),
    user_id    uuid,
    client_ip  text,
    outcome    text NOT NULL CHECK (outcome IN (
                   'password_ok', 'password_failed', 'throttled', 'locked',
                   'totp_ok', 'totp_failed', 'recovery_code_used', 'totp_enrolled',
                   'password_changed', 'password_reset', 'signed_out', 'signed_out_everywhere', 'unlocked')),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX login_events_tenant_at ON clinic.login_events (tenant_id, at DESC);

-- One-time recovery codes, stored as keyed hashes.
CREATE TABLE clinic.recovery_codes (
    tenant_id  uuid NOT NULL,
    user_id    uuid NOT NULL,
    code_hash  bytea NOT NULL CHECK (length(code_hash) = 32),
    used_at    timestamptz,
    PRIMARY KEY (tenant_id, user_id, code_hash),
    FOREIGN KEY (tenant_id, user_id) REFERENCES clinic.users (tenant_id, id) ON DELETE CASCADE
);

-- Autosaved form drafts, one per user and form key ("patient-edit:<id>").
-- Drafts hold PHI: the crypto issue encrypts `payload` like any clinical field.
CREATE TABLE clinic.drafts (
    tenant_id   uuid NOT NULL,
    user_id     uuid NOT NULL,
    form_key    text NOT NULL CHECK (form_key ~ '^[a-z-]{1,40}:[A-Za-z0-9-]{1,64}$'),
    payload     text NOT NULL CHECK (length(payload) <= 200000),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, form_key),
    FOREIGN KEY (tenant_id, user_id) REFERENCES clinic.users (tenant_id, id) ON DELETE CASCADE
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['workstations', 'tenant_settings', 'login_throttle',
                             'login_events', 'recovery_codes', 'drafts'] LOOP
        EXECUTE format('ALTER TABLE clinic.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE clinic.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON clinic.%I FOR ALL
                            USING (tenant_id = clinic.current_tenant())
                            WITH CHECK (tenant_id = clinic.current_tenant())', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON clinic.%I TO healipro_app', t);
    END LOOP;
END
$$;

-- JWT signing keys (RS256). Not tenant data: one ring for the deployment. The
-- private key is encrypted under the server key; the newest key signs, every key
-- verifies until it is deleted (after the tokens it signed have expired).
CREATE TABLE platform.jwt_keys (
    kid              text PRIMARY KEY CHECK (kid ~ '^[A-Za-z0-9_-]{8,64}$'),
    public_pem       text NOT NULL,
    private_key_enc  bytea NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- The server creates the first key on start-up; `healipro keys rotate-jwt` adds more.
GRANT SELECT, INSERT ON platform.jwt_keys TO healipro_app;
