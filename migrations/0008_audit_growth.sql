-- Audit log search by workstation, and archival of old segments (issue 7).
--
-- Search filters by workstation, newest first: an index led by tenant_id like
-- the other audit indexes.
--
-- Growth: a chain is never edited, but an old segment may be moved out of the
-- database once it is safe elsewhere. `healipro audit archive` (run by the
-- platform operator as the owner role — the privileged maintenance role; the
-- runtime role holds no DELETE and never will) writes the segment as a signed
-- export, checks the file with the public key, records it in
-- `platform.audit_archives` with a signature over (tenant, seqs, last hash,
-- file digest, time), and deletes the segment in the same transaction. The
-- append-only trigger now lets a DELETE through only for entries an archive
-- row covers; UPDATE and TRUNCATE stay refused for everyone. Verification
-- starts from the latest archive's signed last hash, so the remaining chain
-- still proves itself, and the archived files verify on their own.

CREATE INDEX audit_log_workstation ON clinic.audit_log (tenant_id, workstation_id, seq DESC)
    WHERE workstation_id IS NOT NULL;

CREATE TABLE platform.audit_archives (
    tenant_id     uuid NOT NULL REFERENCES platform.tenants (id),
    first_seq     bigint NOT NULL CHECK (first_seq > 0),
    through_seq   bigint NOT NULL,
    through_hash  bytea NOT NULL CHECK (length(through_hash) = 32),
    file_name     text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
    file_sha256   bytea NOT NULL CHECK (length(file_sha256) = 32),
    archived_at   timestamptz NOT NULL,
    key_id        text NOT NULL CHECK (key_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    signature     bytea NOT NULL CHECK (length(signature) = 64),
    PRIMARY KEY (tenant_id, through_seq),
    CHECK (through_seq >= first_seq)
);
-- The runtime role reads archives (verification, exports anchored on one)
-- and never writes them.
GRANT SELECT ON platform.audit_archives TO healipro_app;

CREATE OR REPLACE FUNCTION clinic.audit_log_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM platform.audit_archives a
                    WHERE a.tenant_id = OLD.tenant_id AND a.through_seq >= OLD.seq) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'clinic.audit_log is append-only: entry % is not archived', OLD.seq
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RAISE EXCEPTION 'clinic.audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
