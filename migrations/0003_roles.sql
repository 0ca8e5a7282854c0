-- Roles and permissions (issue 5): custom roles (hospital tier), users holding
-- custom roles, and the log of refused permission checks.

-- A user may now hold only custom roles; "at least one role" is checked by the
-- server, which sees both kinds.
ALTER TABLE clinic.users DROP CONSTRAINT users_roles_check;
ALTER TABLE clinic.users ADD CONSTRAINT users_builtin_roles_check CHECK (
    roles <@ ARRAY['admin', 'doctor', 'operator', 'pharmacist', 'lab_tech', 'auditor']);

-- A custom role: a name and a set of permission names (the server accepts only
-- names from `Permission::ALL`; an unknown name read back grants nothing).
CREATE TABLE clinic.roles (
    tenant_id    uuid NOT NULL REFERENCES platform.tenants (id),
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    name         text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 60),
    permissions  text[] NOT NULL CHECK (cardinality(permissions) >= 1),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX roles_name_unique ON clinic.roles (tenant_id, lower(btrim(name)));

-- Who holds which custom role. A role in use cannot be deleted (RESTRICT): the
-- server names its holders instead.
CREATE TABLE clinic.user_roles (
    tenant_id  uuid NOT NULL,
    user_id    uuid NOT NULL,
    role_id    uuid NOT NULL,
    PRIMARY KEY (tenant_id, user_id, role_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES clinic.users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, role_id) REFERENCES clinic.roles (tenant_id, id) ON DELETE RESTRICT
);
CREATE INDEX user_roles_by_role ON clinic.user_roles (tenant_id, role_id);

-- Refused permission checks (the audit issue routes these into the audit log).
CREATE TABLE clinic.access_denials (
    tenant_id   uuid NOT NULL,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    at          timestamptz NOT NULL DEFAULT now(),
    user_id     uuid NOT NULL,
    session_id  uuid,
    permission  text NOT NULL CHECK (permission ~ '^[a-z.]{3,40}$'),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES clinic.users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX access_denials_recent ON clinic.access_denials (tenant_id, at DESC);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['roles', 'user_roles', 'access_denials'] LOOP
        EXECUTE format('ALTER TABLE clinic.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE clinic.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON clinic.%I FOR ALL
                            USING (tenant_id = clinic.current_tenant())
                            WITH CHECK (tenant_id = clinic.current_tenant())', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON clinic.%I TO healipro_app', t);
    END LOOP;
END
$$;
