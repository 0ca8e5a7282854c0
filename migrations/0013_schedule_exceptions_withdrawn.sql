-- Withdrawing leave or a holiday (issue 8, "Front desk"): an exception
-- entered by mistake, or leave a doctor cancels, is withdrawn, never deleted,
-- so the schedule's history stays readable next to the audit log. A
-- withdrawn exception no longer blocks slots or bookings. The runtime role
-- loses DELETE on the table: withdrawing is the only way back.

ALTER TABLE clinic.schedule_exceptions
    ADD COLUMN withdrawn_at timestamptz,
    ADD COLUMN withdrawn_by uuid,
    ADD CONSTRAINT schedule_exceptions_withdrawn_by_whom
        CHECK ((withdrawn_at IS NULL) = (withdrawn_by IS NULL)),
    ADD CONSTRAINT schedule_exceptions_withdrawn_by_fkey
        FOREIGN KEY (tenant_id, withdrawn_by) REFERENCES clinic.users (tenant_id, id);

REVOKE DELETE ON clinic.schedule_exceptions FROM healipro_app;
