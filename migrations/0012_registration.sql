-- Registration at the front desk (issue 8, point 1).
--
-- * Age instead of a date of birth: many patients know only their age. The
--   desk types it, the server stores `today - age` as the date of birth and
--   marks it estimated, so the record shows an age ("about 34") and the edit
--   form offers the age back instead of a made-up exact date.
-- * MR numbers: `<prefix><6 digits>`, the prefix configurable per clinic
--   (`tenant_settings.mr_prefix`, default `MR-`: 1–6 capital letters and an
--   optional dash, so an MR number never looks like a name or a phone). The
--   number comes from `mr_counters`: an upsert that increments under the row
--   lock, in the registration's own transaction. Two registrations at once
--   queue on that row, and a registration that rolls back rolls its number
--   back too, so the numbers are unique and gap-free per clinic. Changing the
--   prefix keeps the count (`MR-000041` is followed by `HP-000042`).

ALTER TABLE clinic.patients
    ADD COLUMN date_of_birth_estimated boolean NOT NULL DEFAULT false;

ALTER TABLE clinic.tenant_settings
    ADD COLUMN mr_prefix text NOT NULL DEFAULT 'MR-' CHECK (mr_prefix ~ '^[A-Z]{1,6}-?$');

CREATE TABLE clinic.mr_counters (
    tenant_id    uuid NOT NULL REFERENCES platform.tenants (id),
    last_number  bigint NOT NULL CHECK (last_number > 0),
    PRIMARY KEY (tenant_id)
);
ALTER TABLE clinic.mr_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE clinic.mr_counters FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON clinic.mr_counters FOR ALL
    USING (tenant_id = clinic.current_tenant())
    WITH CHECK (tenant_id = clinic.current_tenant());
GRANT SELECT, INSERT, UPDATE ON clinic.mr_counters TO healipro_app;

-- Clinics registered before this migration continue after their highest number.
INSERT INTO clinic.mr_counters (tenant_id, last_number)
SELECT tenant_id, max(substring(mr_number FROM '([0-9]{1,15})$')::bigint)
  FROM clinic.patients
 WHERE mr_number ~ '[0-9]$'
 GROUP BY tenant_id
HAVING max(substring(mr_number FROM '([0-9]{1,15})$')::bigint) > 0;
