-- Field-level encryption (issue 6, DESIGN §5): per-tenant keys wrapped by the
-- master key (KEK), encrypted patient identifiers with blind indexes, and the
-- KEK id beside every wrapped platform secret.

-- A tenant's keys. `purpose` 'data' keys (DEK) encrypt fields; the 'index' key
-- derives the per-column HMAC keys of the blind indexes. `wrapped` is the key
-- encrypted under the KEK named by `kek_id` (AAD binds it to tenant, key id and
-- purpose). Exactly one active key per purpose; a DEK being rotated away is
-- 'retiring' until no field uses it, then 'destroyed' (wrapped erased). A
-- destroyed key can never be read back: that is the crypto-shred.
CREATE TABLE clinic.tenant_keys (
    tenant_id     uuid NOT NULL REFERENCES platform.tenants (id),
    key_id        integer NOT NULL CHECK (key_id > 0),
    purpose       text NOT NULL CHECK (purpose IN ('data', 'index')),
    state         text NOT NULL CHECK (state IN ('active', 'retiring', 'destroyed')),
    kek_id        text NOT NULL CHECK (kek_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    wrapped       bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    rewrapped_at  timestamptz,
    destroyed_at  timestamptz,
    PRIMARY KEY (tenant_id, key_id),
    CHECK ((state = 'destroyed') = (wrapped IS NULL))
);
CREATE UNIQUE INDEX tenant_keys_one_active
    ON clinic.tenant_keys (tenant_id, purpose) WHERE state = 'active';

-- Progress of a DEK rotation, so an interrupted `healipro keys rotate-dek`
-- resumes where it stopped: one row per tenant while a rotation runs.
CREATE TABLE clinic.key_rotations (
    tenant_id     uuid NOT NULL REFERENCES platform.tenants (id),
    id            uuid NOT NULL DEFAULT gen_random_uuid(),
    from_key_id   integer NOT NULL,
    to_key_id     integer NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    rows_done     bigint NOT NULL DEFAULT 0,
    finished_at   timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX key_rotations_one_running
    ON clinic.key_rotations (tenant_id) WHERE finished_at IS NULL;

-- Patients' identifiers: ciphertext (`v1 | key id | nonce | ciphertext+tag`)
-- and, for exact search, a 16-byte keyed blind index (HMAC-SHA256 of the
-- normalised value under the tenant's column key). Names stay plaintext for
-- fuzzy search.
ALTER TABLE clinic.patients
    ADD COLUMN cnic_enc     bytea,
    ADD COLUMN cnic_bidx    bytea CHECK (length(cnic_bidx) = 16),
    ADD COLUMN phone_enc    bytea,
    ADD COLUMN phone_bidx   bytea CHECK (length(phone_bidx) = 16),
    ADD COLUMN address_enc  bytea,
    ADD CONSTRAINT patients_cnic_pair CHECK ((cnic_enc IS NULL) = (cnic_bidx IS NULL)),
    ADD CONSTRAINT patients_phone_pair CHECK ((phone_enc IS NULL) = (phone_bidx IS NULL));
CREATE INDEX patients_tenant_cnic_bidx ON clinic.patients (tenant_id, cnic_bidx)
    WHERE cnic_bidx IS NOT NULL;
CREATE INDEX patients_tenant_phone_bidx ON clinic.patients (tenant_id, phone_bidx)
    WHERE phone_bidx IS NOT NULL;

-- TOTP secrets move from the server key to the tenant key ring. Pre-release:
-- secrets sealed the old way cannot be re-encrypted in SQL, so enrolments are
-- reset (the next sign-in enrols again; the demo seed re-enrols its users with
-- the secrets it printed). Recovery codes were keyed by the server key: gone too.
UPDATE clinic.users
   SET totp_secret_enc = NULL, totp_pending_enc = NULL, totp_enrolled_at = NULL, totp_last_step = 0;
DELETE FROM clinic.recovery_codes;

-- Platform secrets record which master key wraps them (a bare legacy key file
-- is key 'k0'), so `healipro keys rotate-kek` can rewrap them.
ALTER TABLE platform.jwt_keys ADD COLUMN kek_id text NOT NULL DEFAULT 'k0';
ALTER TABLE platform.jwt_keys ALTER COLUMN kek_id DROP DEFAULT;

ALTER TABLE clinic.tenant_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE clinic.tenant_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON clinic.tenant_keys FOR ALL
    USING (tenant_id = clinic.current_tenant()) WITH CHECK (tenant_id = clinic.current_tenant());
ALTER TABLE clinic.key_rotations ENABLE ROW LEVEL SECURITY;
ALTER TABLE clinic.key_rotations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON clinic.key_rotations FOR ALL
    USING (tenant_id = clinic.current_tenant()) WITH CHECK (tenant_id = clinic.current_tenant());

-- No DELETE on keys: destroying one erases `wrapped` and keeps the row, so a
-- ciphertext naming it says "destroyed", not "unknown".
GRANT SELECT, INSERT, UPDATE ON clinic.tenant_keys TO healipro_app;
GRANT SELECT, INSERT, UPDATE ON clinic.key_rotations TO healipro_app;
GRANT UPDATE (private_key_enc, kek_id) ON platform.jwt_keys TO healipro_app;
