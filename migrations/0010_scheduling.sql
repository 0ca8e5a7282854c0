-- Doctors' schedules, appointments that can never double-book, and the day's
-- token queue (issue 8, PRODUCT "Appointments").
--
-- * `doctor_hours`: a doctor's weekly hours (weekday, start, end, slot length,
--   optional fee). `schedule_exceptions`: leave or holidays, for one doctor or
--   (doctor_id NULL) the whole clinic.
-- * `appointments`: booked into a slot (starts_at/ends_at) or a walk-in (no
--   slot). The database forbids double-booking: an exclusion constraint over
--   (tenant, doctor, time range) for every appointment that still holds its
--   slot (booked, arrived, in consultation, done) — btree_gist gives the `=`
--   operators. Two operators booking one slot at once: one insert wins, the
--   other gets SQLSTATE 23P01, which the server turns into a message naming
--   the booking in the way.
-- * Tokens: arriving gives the next number of the doctor's day from
--   `token_counters` (an upsert that increments under the row lock, in the
--   arrival's transaction: gap-free, since a rolled-back arrival rolls its
--   number back too), unique per (tenant, doctor, day).
-- * `appointment_events`: who changed an appointment's status, when, and why.
-- Every table has the tenancy shape (tenant_id, keys led by it, FORCE RLS, one
-- policy); the runtime role gets no DELETE (a cancelled appointment stays).

CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE clinic.doctor_hours (
    tenant_id     uuid NOT NULL REFERENCES platform.tenants (id),
    id            uuid NOT NULL DEFAULT gen_random_uuid(),
    doctor_id     uuid NOT NULL,
    -- ISO weekday: 1 = Monday … 7 = Sunday.
    weekday       smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    starts        time NOT NULL,
    ends          time NOT NULL CHECK (ends > starts),
    slot_minutes  smallint NOT NULL CHECK (slot_minutes BETWEEN 5 AND 240),
    fee_pkr       integer CHECK (fee_pkr >= 0),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, doctor_id) REFERENCES clinic.users (tenant_id, id),
    -- One doctor's blocks on one weekday never overlap.
    EXCLUDE USING gist (tenant_id WITH =, doctor_id WITH =, weekday WITH =,
                        tsrange('2000-01-01'::date + starts, '2000-01-01'::date + ends) WITH &&)
);

CREATE TABLE clinic.schedule_exceptions (
    tenant_id   uuid NOT NULL REFERENCES platform.tenants (id),
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    -- NULL: the whole clinic (a public holiday).
    doctor_id   uuid,
    first_day   date NOT NULL,
    last_day    date NOT NULL CHECK (last_day >= first_day),
    reason      text NOT NULL CHECK (length(btrim(reason)) BETWEEN 1 AND 200),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, doctor_id) REFERENCES clinic.users (tenant_id, id)
);
CREATE INDEX schedule_exceptions_days ON clinic.schedule_exceptions (tenant_id, first_day, last_day);

CREATE TABLE clinic.appointments (
    tenant_id      uuid NOT NULL REFERENCES platform.tenants (id),
    id             uuid NOT NULL DEFAULT gen_random_uuid(),
    patient_id     uuid NOT NULL,
    doctor_id      uuid NOT NULL,
    -- The clinic day (Pakistan time) the appointment or walk-in belongs to.
    day            date NOT NULL,
    starts_at      timestamptz,
    ends_at        timestamptz,
    status         text NOT NULL CHECK (status IN
                   ('booked', 'arrived', 'in_consultation', 'done', 'no_show', 'cancelled')),
    token          integer CHECK (token > 0),
    cancel_reason  text NOT NULL DEFAULT '',
    created_by     uuid NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, patient_id) REFERENCES clinic.patients (tenant_id, id),
    FOREIGN KEY (tenant_id, doctor_id) REFERENCES clinic.users (tenant_id, id),
    -- A slot has both ends or neither (a walk-in).
    CHECK ((starts_at IS NULL) = (ends_at IS NULL)),
    CHECK (ends_at > starts_at),
    UNIQUE (tenant_id, doctor_id, day, token),
    CONSTRAINT appointments_no_double_booking EXCLUDE USING gist (
        tenant_id WITH =, doctor_id WITH =, tstzrange(starts_at, ends_at) WITH &&)
        WHERE (starts_at IS NOT NULL AND status IN ('booked', 'arrived', 'in_consultation', 'done'))
);
CREATE INDEX appointments_day ON clinic.appointments (tenant_id, day, doctor_id);
CREATE INDEX appointments_patient ON clinic.appointments (tenant_id, patient_id);

CREATE TABLE clinic.appointment_events (
    tenant_id       uuid NOT NULL REFERENCES platform.tenants (id),
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    appointment_id  uuid NOT NULL,
    status          text NOT NULL,
    -- clock_timestamp(): several changes in one transaction keep their order.
    at              timestamptz NOT NULL DEFAULT clock_timestamp(),
    by_user         uuid NOT NULL,
    note            text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, appointment_id) REFERENCES clinic.appointments (tenant_id, id)
);
CREATE INDEX appointment_events_appointment ON clinic.appointment_events (tenant_id, appointment_id, at);

CREATE TABLE clinic.token_counters (
    tenant_id   uuid NOT NULL REFERENCES platform.tenants (id),
    doctor_id   uuid NOT NULL,
    day         date NOT NULL,
    last_token  integer NOT NULL CHECK (last_token > 0),
    PRIMARY KEY (tenant_id, doctor_id, day),
    FOREIGN KEY (tenant_id, doctor_id) REFERENCES clinic.users (tenant_id, id)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['doctor_hours', 'schedule_exceptions', 'appointments',
                             'appointment_events', 'token_counters'] LOOP
        EXECUTE format('ALTER TABLE clinic.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE clinic.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON clinic.%I FOR ALL
                        USING (tenant_id = clinic.current_tenant())
                        WITH CHECK (tenant_id = clinic.current_tenant())', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON clinic.doctor_hours, clinic.schedule_exceptions TO healipro_app;
GRANT SELECT, INSERT, UPDATE ON clinic.appointments, clinic.token_counters TO healipro_app;
GRANT SELECT, INSERT ON clinic.appointment_events TO healipro_app;
