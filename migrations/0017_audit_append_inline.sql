-- Cheaper audit appends, again (issue 7, `cargo xtask bench audit`).
--
-- `clinic.audit_append` (migration 0009) called `clinic.audit_tail`, a second
-- plpgsql function, whose RETURN QUERY materialised the UNION of the log's
-- tail and the latest archive's and sorted the two. The append now takes the
-- lock and reads the tail itself: the log's last entry by the primary key,
-- and the latest archive only when the log holds none of the tenant's
-- entries (archival removes a clinic's oldest entries, never its newest, so a
-- remaining entry is always later than every archive). Each statement of a
-- VOLATILE plpgsql function takes its own snapshot, so the read still sees
-- every entry committed before the lock was granted. Same signature, same
-- hash input, same result; `clinic.audit_tail` stays for entries with
-- details, which are hashed in the application.

CREATE OR REPLACE FUNCTION clinic.audit_append(
    p_tenant uuid, p_actor_user_id uuid, p_actor_username text, p_actor_roles text[],
    p_action text, p_patient_id uuid, p_object_type text, p_object_id text, p_ip text,
    p_workstation_id uuid, p_json_head text, p_json_mid text, p_json_tail text)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_seq  bigint;
    v_prev bytea;
    v_at   timestamptz;
    v_hash bytea;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('healipro.audit'), hashtext(p_tenant::text));
    SELECT a.seq, a.hash INTO v_seq, v_prev
      FROM clinic.audit_log a
     WHERE a.tenant_id = p_tenant
     ORDER BY a.seq DESC
     LIMIT 1;
    IF NOT FOUND THEN
        SELECT r.through_seq, r.through_hash INTO v_seq, v_prev
          FROM platform.audit_archives r
         WHERE r.tenant_id = p_tenant
         ORDER BY r.through_seq DESC
         LIMIT 1;
    END IF;
    v_seq := coalesce(v_seq, 0) + 1;
    v_prev := coalesce(v_prev, decode(repeat('00', 32), 'hex'));
    v_at := clock_timestamp();
    v_hash := sha256(v_prev || convert_to(
        p_json_head || to_char(v_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
        || p_json_mid || encode(v_prev, 'hex') || '","seq":' || v_seq || p_json_tail, 'UTF8'));
    INSERT INTO clinic.audit_log (tenant_id, seq, at, actor_user_id, actor_username, actor_roles,
                                  action, patient_id, object_type, object_id, ip, workstation_id,
                                  details_enc, prev_hash, hash)
    VALUES (p_tenant, v_seq, v_at, p_actor_user_id, p_actor_username, p_actor_roles, p_action,
            p_patient_id, p_object_type, p_object_id, p_ip, p_workstation_id, NULL, v_prev, v_hash);
    RETURN v_seq;
END
$$;
