-- Autosaved drafts hold what was typed, identifiers included: the payload is
-- encrypted too. `id` names the row in the ciphertext's AAD (a new id with
-- every save). Drafts are short-lived, so existing ones are dropped.
DELETE FROM clinic.drafts;
ALTER TABLE clinic.drafts
    DROP COLUMN payload,
    ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid(),
    ADD COLUMN payload_enc bytea NOT NULL,
    ADD CONSTRAINT drafts_id_unique UNIQUE (tenant_id, id);

