-- Tamper-evident audit log (issue 7, DESIGN §6).
--
-- One hash chain per tenant: entry `seq` stores the previous entry's hash and
-- its own, SHA-256(prev_hash || RFC 8785 canonical JSON of the entry without
-- `hash`), details as ciphertext. Appended in the same transaction as the
-- action it records, serialised per tenant by an advisory lock. The table is
-- append-only: row triggers refuse UPDATE and DELETE, a statement trigger
-- refuses TRUNCATE, and the runtime role holds only SELECT and INSERT. Only a
-- role that can disable triggers (the owner, i.e. a malicious DBA) can edit it,
-- and `healipro audit verify` finds that.

CREATE TABLE clinic.audit_log (
    tenant_id       uuid NOT NULL REFERENCES platform.tenants (id),
    seq             bigint NOT NULL CHECK (seq > 0),
    at              timestamptz NOT NULL,
    actor_user_id   uuid,
    actor_username  text NOT NULL DEFAULT '',
    actor_roles     text[] NOT NULL DEFAULT '{}',
    action          text NOT NULL CHECK (action ~ '^[a-z][a-z_.]{1,63}$'),
    patient_id      uuid,
    object_type     text NOT NULL DEFAULT '',
    object_id       text NOT NULL DEFAULT '',
    ip              text NOT NULL DEFAULT '',
    workstation_id  uuid,
    -- Encrypted with the tenant's audit key (never re-encrypted: the hash
    -- covers this ciphertext); AAD binds it to tenant and seq.
    details_enc     bytea,
    prev_hash       bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash            bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (tenant_id, seq),
    UNIQUE (tenant_id, prev_hash),
    UNIQUE (tenant_id, hash)
);
-- Search is newest first within a tenant, by person, patient, action or date.
CREATE INDEX audit_log_patient ON clinic.audit_log (tenant_id, patient_id, seq DESC)
    WHERE patient_id IS NOT NULL;
CREATE INDEX audit_log_actor ON clinic.audit_log (tenant_id, actor_user_id, seq DESC);
CREATE INDEX audit_log_action ON clinic.audit_log (tenant_id, action, seq DESC);
CREATE INDEX audit_log_at ON clinic.audit_log (tenant_id, at);

CREATE FUNCTION clinic.audit_log_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'clinic.audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON clinic.audit_log
    FOR EACH ROW EXECUTE FUNCTION clinic.audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON clinic.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION clinic.audit_log_append_only();

ALTER TABLE clinic.audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE clinic.audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON clinic.audit_log FOR ALL
    USING (tenant_id = clinic.current_tenant()) WITH CHECK (tenant_id = clinic.current_tenant());
GRANT SELECT, INSERT ON clinic.audit_log TO healipro_app;

-- Signed checkpoints: (tenant, seq, hash, time) signed with an Ed25519 key held
-- outside the database. No PHI; kept in `platform` and in every export.
CREATE TABLE platform.audit_checkpoints (
    tenant_id   uuid NOT NULL REFERENCES platform.tenants (id),
    seq         bigint NOT NULL CHECK (seq > 0),
    hash        bytea NOT NULL CHECK (length(hash) = 32),
    signed_at   timestamptz NOT NULL,
    key_id      text NOT NULL CHECK (key_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    signature   bytea NOT NULL CHECK (length(signature) = 64),
    PRIMARY KEY (tenant_id, seq)
);
GRANT SELECT, INSERT ON platform.audit_checkpoints TO healipro_app;

-- Audit details have their own tenant key: the chain hashes their ciphertext,
-- so a DEK rotation must not rewrite them, and the key lives as long as the log.
ALTER TABLE clinic.tenant_keys DROP CONSTRAINT tenant_keys_purpose_check;
ALTER TABLE clinic.tenant_keys ADD CONSTRAINT tenant_keys_purpose_check
    CHECK (purpose IN ('data', 'index', 'audit'));
