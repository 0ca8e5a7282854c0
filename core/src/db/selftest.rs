//! Tenancy self-test: the checks behind the catalog meta-test, the fail-closed
//! and pool-leak tests, and `healipro selftest isolation`.
//!
//! Everything here only reads, and every probe made as the runtime role runs in
//! a transaction that is rolled back, so it is safe against a live deployment.
//! The probes are generic over the catalog: a table added to `clinic` is checked
//! without anyone remembering to add it here.

use super::{Db, OwnerDb};
use crate::ids::TenantId;
use crate::Result;
use sqlx::postgres::PgPoolOptions;
use sqlx::Row;

/// One check's outcome.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

impl Check {
    fn new(name: impl Into<String>, ok: bool, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ok,
            detail: detail.into(),
        }
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    pub fn failures(&self) -> Vec<&Check> {
        self.checks.iter().filter(|c| !c.ok).collect()
    }
}

/// Runs every check: catalog, fail-closed, pool hygiene, cross-tenant.
pub async fn run(app: &Db, owner: &OwnerDb) -> Result<Report> {
    let app_role = app.role_name().await?;
    let mut checks = catalog(owner, &app_role).await?;
    checks.extend(encrypted_columns(owner).await?);
    checks.extend(fail_closed(app, owner).await?);
    checks.extend(pool_hygiene(app).await?);
    checks.extend(cross_tenant(app, owner).await?);
    Ok(Report { checks })
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The tables of schema `clinic` (ordinary and partitioned).
pub async fn clinic_tables(owner: &OwnerDb) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'clinic' AND c.relkind IN ('r', 'p') ORDER BY 1",
    )
    .fetch_all(&owner.pool)
    .await?)
}

/// Catalog meta-test: every `clinic` table has the tenancy shape, and the runtime
/// role has exactly the powers it should.
pub async fn catalog(owner: &OwnerDb, app_role: &str) -> Result<Vec<Check>> {
    let mut checks = Vec::new();
    let rows = sqlx::query(
        r"SELECT c.relname::text AS name,
                 EXISTS (SELECT 1 FROM pg_attribute a
                          WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
                            AND a.atttypid = 'uuid'::regtype AND a.attnotnull) AS has_tenant,
                 c.relrowsecurity AS rls_enabled,
                 c.relforcerowsecurity AS rls_forced,
                 (SELECT count(*) FROM pg_policy p
                   WHERE p.polrelid = c.oid AND p.polcmd = '*' AND p.polpermissive
                     AND pg_get_expr(p.polqual, p.polrelid) ~ 'tenant_id = clinic\.current_tenant\(\)'
                     AND pg_get_expr(p.polwithcheck, p.polrelid) ~ 'tenant_id = clinic\.current_tenant\(\)')
                   AS good_policies,
                 (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid AND NOT p.polpermissive)
                   AS restrictive_policies,
                 EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS has_pk,
                 (SELECT count(*) FROM pg_index i
                   WHERE i.indrelid = c.oid AND (i.indisunique OR i.indisprimary)
                     AND (SELECT a.attname FROM pg_attribute a
                           WHERE a.attrelid = c.oid AND a.attnum = i.indkey[0]) IS DISTINCT FROM 'tenant_id')
                   AS keys_without_tenant,
                 (SELECT count(*) FROM pg_constraint k
                    JOIN pg_class rc ON rc.oid = k.confrelid
                    JOIN pg_namespace rn ON rn.oid = rc.relnamespace
                   WHERE k.conrelid = c.oid AND k.contype = 'f' AND rn.nspname = 'clinic'
                     AND (SELECT a.attname FROM pg_attribute a
                           WHERE a.attrelid = c.oid AND a.attnum = k.conkey[1]) IS DISTINCT FROM 'tenant_id')
                   AS fks_without_tenant
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'clinic' AND c.relkind IN ('r', 'p')
           ORDER BY 1",
    )
    .fetch_all(&owner.pool)
    .await?;
    checks.push(Check::new(
        "catalog: schema clinic has tables",
        !rows.is_empty(),
        format!("{} tables", rows.len()),
    ));
    for r in &rows {
        let t: String = r.get("name");
        let mut problems = Vec::new();
        if !r.get::<bool, _>("has_tenant") {
            problems.push("no `tenant_id uuid NOT NULL` column".to_owned());
        }
        if !r.get::<bool, _>("rls_enabled") {
            problems.push("row-level security not ENABLEd".to_owned());
        }
        if !r.get::<bool, _>("rls_forced") {
            problems.push("row-level security not FORCEd".to_owned());
        }
        if r.get::<i64, _>("good_policies") == 0 {
            problems.push(
                "no PERMISSIVE policy FOR ALL with USING and WITH CHECK (tenant_id = clinic.current_tenant())"
                    .to_owned(),
            );
        }
        if r.get::<i64, _>("restrictive_policies") > 0 {
            problems.push("has RESTRICTIVE policies (Citus turns them permissive)".to_owned());
        }
        if !r.get::<bool, _>("has_pk") {
            problems.push("no primary key".to_owned());
        }
        let keys = r.get::<i64, _>("keys_without_tenant");
        if keys > 0 {
            problems.push(format!("{keys} primary/unique key(s) not led by tenant_id"));
        }
        let fks = r.get::<i64, _>("fks_without_tenant");
        if fks > 0 {
            problems.push(format!(
                "{fks} foreign key(s) into clinic not led by tenant_id"
            ));
        }
        checks.push(Check::new(
            format!("catalog: clinic.{t} tenancy shape"),
            problems.is_empty(),
            if problems.is_empty() {
                "tenant_id, RLS enabled+forced, tenant policy, tenant-led keys".to_owned()
            } else {
                problems.join("; ")
            },
        ));
    }

    let bad_views: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'clinic'
            AND (c.relkind = 'm'
                 OR (c.relkind = 'v' AND NOT coalesce(c.reloptions @> ARRAY['security_invoker=true'], false)))",
    )
    .fetch_all(&owner.pool)
    .await?;
    checks.push(Check::new(
        "catalog: clinic views are security_invoker, no materialized views",
        bad_views.is_empty(),
        if bad_views.is_empty() {
            "ok".to_owned()
        } else {
            bad_views.join(", ")
        },
    ));

    checks.extend(definer_functions(owner).await?);
    checks.extend(app_role_checks(owner, app_role).await?);
    Ok(checks)
}

/// Every SECURITY DEFINER function in `clinic` and `platform` runs as a narrow
/// role (migration 0014): one nobody signs in as, that is not a superuser,
/// owns no table or schema (so not the migration owner) and cannot write any
/// table; with its search_path pinned and not executable by PUBLIC.
pub async fn definer_functions(owner: &OwnerDb) -> Result<Vec<Check>> {
    let rows = sqlx::query(
        r"SELECT p.oid::regprocedure::text AS name, r.rolname::text AS owner,
                 r.rolcanlogin AS can_login, r.rolsuper AS superuser,
                 EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = r.oid)
                   OR EXISTS (SELECT 1 FROM pg_namespace n2 WHERE n2.nspowner = r.oid) AS owns_objects,
                 (SELECT count(*) FROM pg_class c JOIN pg_namespace cn ON cn.oid = c.relnamespace
                    CROSS JOIN (VALUES ('INSERT'), ('UPDATE'), ('DELETE'), ('TRUNCATE')) AS w(priv)
                   WHERE cn.nspname IN ('clinic', 'platform') AND c.relkind IN ('r', 'p')
                     AND has_table_privilege(r.oid, c.oid, w.priv)) AS writable,
                 coalesce(EXISTS (SELECT 1 FROM unnest(p.proconfig) AS cfg
                                   WHERE cfg LIKE 'search\_path=%'), false) AS pinned_path,
                 EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS a
                          WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') AS public_execute
            FROM pg_proc p
            JOIN pg_namespace n ON n.oid = p.pronamespace
            JOIN pg_roles r ON r.oid = p.proowner
           WHERE n.nspname IN ('clinic', 'platform') AND p.prosecdef
           ORDER BY 1",
    )
    .fetch_all(&owner.pool)
    .await?;
    let mut checks = Vec::new();
    for r in &rows {
        let name: String = r.get("name");
        let role: String = r.get("owner");
        let mut problems = Vec::new();
        if r.get::<bool, _>("can_login") {
            problems.push(format!("runs as {role}, a LOGIN role"));
        }
        if r.get::<bool, _>("superuser") {
            problems.push(format!("runs as {role}, a superuser"));
        }
        if r.get::<bool, _>("owns_objects") {
            problems.push(format!("runs as {role}, which owns tables or schemas"));
        }
        let writable = r.get::<i64, _>("writable");
        if writable > 0 {
            problems.push(format!(
                "runs as {role}, which may write {writable} table privilege(s)"
            ));
        }
        if !r.get::<bool, _>("pinned_path") {
            problems.push("search_path not pinned".to_owned());
        }
        if r.get::<bool, _>("public_execute") {
            problems.push("PUBLIC may execute it".to_owned());
        }
        checks.push(Check::new(
            format!("catalog: SECURITY DEFINER {name} is narrow"),
            problems.is_empty(),
            if problems.is_empty() {
                format!("runs as {role}: NOLOGIN, owns nothing, read-only; search_path pinned")
            } else {
                problems.join("; ")
            },
        ));
    }
    Ok(checks)
}

async fn app_role_checks(owner: &OwnerDb, app_role: &str) -> Result<Vec<Check>> {
    let mut checks = Vec::new();
    let attrs = sqlx::query(
        "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication
           FROM pg_roles WHERE rolname = $1",
    )
    .bind(app_role)
    .fetch_optional(&owner.pool)
    .await?;
    let Some(attrs) = attrs else {
        checks.push(Check::new(
            "app role: exists",
            false,
            format!("no role {app_role}"),
        ));
        return Ok(checks);
    };
    let mut powers = Vec::new();
    for (col, what) in [
        ("rolsuper", "SUPERUSER"),
        ("rolbypassrls", "BYPASSRLS"),
        ("rolcreaterole", "CREATEROLE"),
        ("rolcreatedb", "CREATEDB"),
        ("rolreplication", "REPLICATION"),
    ] {
        if attrs.get::<bool, _>(col) {
            powers.push(what);
        }
    }
    checks.push(Check::new(
        format!("app role {app_role}: NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB"),
        powers.is_empty(),
        if powers.is_empty() {
            "ok".to_owned()
        } else {
            format!("has {}", powers.join(", "))
        },
    ));

    let member_of: Vec<String> = sqlx::query_scalar(
        "SELECT r.rolname::text FROM pg_auth_members m
           JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
          WHERE u.rolname = $1 AND r.rolname NOT LIKE 'pg\\_%'",
    )
    .bind(app_role)
    .fetch_all(&owner.pool)
    .await?;
    let powerful: Vec<String> = sqlx::query_scalar(
        "SELECT r.rolname::text FROM pg_auth_members m
           JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
          WHERE u.rolname = $1 AND r.rolname IN ('pg_read_all_data', 'pg_write_all_data', 'pg_execute_server_program')",
    )
    .bind(app_role)
    .fetch_all(&owner.pool)
    .await?;
    let inherited: Vec<String> = member_of.into_iter().chain(powerful).collect();
    checks.push(Check::new(
        format!("app role {app_role}: member of no other role"),
        inherited.is_empty(),
        if inherited.is_empty() {
            "ok".to_owned()
        } else {
            format!("member of {}", inherited.join(", "))
        },
    ));

    let owned: Vec<String> = sqlx::query_scalar(
        "WITH r AS (SELECT oid FROM pg_roles WHERE rolname = $1)
         SELECT 'table ' || c.oid::regclass::text FROM pg_class c, r WHERE c.relowner = r.oid
         UNION ALL SELECT 'schema ' || n.nspname FROM pg_namespace n, r WHERE n.nspowner = r.oid
         UNION ALL SELECT 'function ' || p.oid::regprocedure::text FROM pg_proc p, r WHERE p.proowner = r.oid
         UNION ALL SELECT 'type ' || t.oid::regtype::text FROM pg_type t, r WHERE t.typowner = r.oid
         UNION ALL SELECT 'database ' || d.datname FROM pg_database d, r
                    WHERE d.datdba = r.oid AND d.datname = current_database()",
    )
    .bind(app_role)
    .fetch_all(&owner.pool)
    .await?;
    checks.push(Check::new(
        format!("app role {app_role}: owns nothing"),
        owned.is_empty(),
        if owned.is_empty() {
            "ok".to_owned()
        } else {
            owned.join(", ")
        },
    ));

    let forbidden: Vec<String> = sqlx::query_scalar(
        "SELECT n.nspname || '.' || c.relname || ': ' || p.priv
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           CROSS JOIN (VALUES ('TRUNCATE'), ('REFERENCES'), ('TRIGGER')) AS p(priv)
          WHERE n.nspname IN ('clinic', 'platform') AND c.relkind IN ('r', 'p', 'v')
            AND has_table_privilege($1, c.oid, p.priv)
          ORDER BY 1",
    )
    .bind(app_role)
    .fetch_all(&owner.pool)
    .await?;
    checks.push(Check::new(
        format!("app role {app_role}: no TRUNCATE, REFERENCES or TRIGGER"),
        forbidden.is_empty(),
        if forbidden.is_empty() {
            "ok".to_owned()
        } else {
            forbidden.join(", ")
        },
    ));
    Ok(checks)
}

async fn owner_count(owner: &OwnerDb, table: &str, tenant: Option<TenantId>) -> Result<i64> {
    let sql = match tenant {
        Some(_) => format!(
            "SELECT count(*) FROM clinic.{} WHERE tenant_id = $1",
            quote_ident(table)
        ),
        None => format!("SELECT count(*) FROM clinic.{}", quote_ident(table)),
    };
    let mut q = sqlx::query_scalar(&sql);
    if let Some(t) = tenant {
        q = q.bind(t);
    }
    Ok(q.fetch_one(&owner.pool).await?)
}

/// Encrypted columns: `crypto::ENCRYPTED_COLUMNS` and the schema agree. Every
/// `clinic` column named `*_enc` is `bytea` and in the list (so it is covered
/// by key rotation), every listed column exists as `bytea`, and a listed
/// blind index is a `bytea` column beside it.
pub async fn encrypted_columns(owner: &OwnerDb) -> Result<Vec<Check>> {
    use crate::crypto::ENCRYPTED_COLUMNS;
    let found: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod)
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'clinic' AND c.relkind IN ('r', 'p') AND a.attnum > 0
            AND NOT a.attisdropped",
    )
    .fetch_all(&owner.pool)
    .await?;
    let type_of = |table: &str, column: &str| {
        found
            .iter()
            .find(|(t, c, _)| t == table && c == column)
            .map(|(_, _, ty)| ty.as_str())
    };
    let mut problems = Vec::new();
    for (table, column, ty) in found.iter().filter(|(_, c, _)| c.ends_with("_enc")) {
        let listed = ENCRYPTED_COLUMNS
            .iter()
            .any(|e| e.table == table && e.column == column);
        if !listed {
            problems.push(format!(
                "clinic.{table}.{column} looks encrypted but is not in crypto::ENCRYPTED_COLUMNS"
            ));
        }
        if ty != "bytea" {
            problems.push(format!("clinic.{table}.{column} is {ty}, not bytea"));
        }
    }
    for e in ENCRYPTED_COLUMNS {
        if type_of(e.table, e.column) != Some("bytea") {
            problems.push(format!(
                "listed clinic.{}.{} is not a bytea column",
                e.table, e.column
            ));
        }
        if let Some(bidx) = e.blind_index {
            if type_of(e.table, bidx) != Some("bytea") {
                problems.push(format!(
                    "blind index clinic.{}.{bidx} is not a bytea column",
                    e.table
                ));
            }
        }
    }
    Ok(vec![Check::new(
        "catalog: encrypted columns match crypto::ENCRYPTED_COLUMNS",
        problems.is_empty(),
        if problems.is_empty() {
            format!("{} encrypted columns", ENCRYPTED_COLUMNS.len())
        } else {
            problems.join("; ")
        },
    )])
}

/// Fail closed: through the runtime role, with no tenant, an empty tenant or an
/// unknown tenant, every `clinic` table reads as empty.
pub async fn fail_closed(app: &Db, owner: &OwnerDb) -> Result<Vec<Check>> {
    let mut checks = Vec::new();
    for table in clinic_tables(owner).await? {
        let count_sql = format!("SELECT count(*) FROM clinic.{}", quote_ident(&table));
        let total = owner_count(owner, &table, None).await?;
        let mut seen = Vec::new();

        let n: i64 = sqlx::query_scalar(&count_sql).fetch_one(&app.pool).await?;
        seen.push(("outside a transaction", n));

        let mut tx = app.pool.begin().await?;
        let n: i64 = sqlx::query_scalar(&count_sql).fetch_one(&mut *tx).await?;
        seen.push(("transaction without tenant", n));
        sqlx::query("SELECT set_config('app.tenant_id', '', true)")
            .execute(&mut *tx)
            .await?;
        let n: i64 = sqlx::query_scalar(&count_sql).fetch_one(&mut *tx).await?;
        seen.push(("tenant set to ''", n));
        tx.rollback().await?;

        let mut ttx = app.tenant_tx_for(TenantId::new_random()).await?;
        let n: i64 = sqlx::query_scalar(&count_sql).fetch_one(ttx.conn()).await?;
        seen.push(("unknown tenant", n));
        ttx.rollback().await?;

        let leaks: Vec<String> = seen
            .iter()
            .filter(|(_, n)| *n != 0)
            .map(|(how, n)| format!("{how}: {n} rows"))
            .collect();
        let vacuous = if total == 0 {
            " (table empty: vacuous)"
        } else {
            ""
        };
        checks.push(Check::new(
            format!("fail-closed: clinic.{table}"),
            leaks.is_empty(),
            if leaks.is_empty() {
                format!("0 of {total} rows visible without a tenant{vacuous}")
            } else {
                leaks.join("; ")
            },
        ));
    }
    Ok(checks)
}

/// No leak through the pool: on a one-connection pool (so the same server
/// connection is reused), a committed, a rolled-back and a failed tenant
/// transaction each leave the next transaction with no tenant.
pub async fn pool_hygiene(app: &Db) -> Result<Vec<Check>> {
    let single = Db {
        pool: PgPoolOptions::new()
            .max_connections(1)
            .connect_with((*app.pool.connect_options()).clone())
            .await?,
        vault: None,
    };
    let tenant = TenantId::new_random();
    let mut checks = Vec::new();
    for ending in ["commit", "rollback", "drop", "error"] {
        let mut tx = single.tenant_tx_for(tenant).await?;
        let pid_before: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(tx.conn())
            .await?;
        match ending {
            "commit" => tx.commit().await?,
            "rollback" => tx.rollback().await?,
            "drop" => drop(tx),
            _ => {
                let failed = sqlx::query("SELECT 1/0").execute(tx.conn()).await;
                debug_assert!(failed.is_err());
                drop(tx);
            }
        }
        let mut next = single.pool.begin().await?;
        let (pid_after, leftover): (i32, Option<String>) =
            sqlx::query_as("SELECT pg_backend_pid(), clinic.current_tenant()::text")
                .fetch_one(&mut *next)
                .await?;
        next.rollback().await?;
        let same_conn = pid_before == pid_after;
        checks.push(Check::new(
            format!("pool: no tenant left after {ending}"),
            leftover.is_none() && same_conn,
            match (&leftover, same_conn) {
                (None, true) => "next transaction on the same connection sees no tenant".to_owned(),
                (Some(t), _) => format!("next transaction still sees tenant {t}"),
                (None, false) => "could not reuse the same connection (inconclusive)".to_owned(),
            },
        ));
    }
    single.close().await;
    Ok(checks)
}

/// Cross-tenant probes between the two largest tenants (A, B), as the runtime
/// role scoped to A: nothing of B is visible by count or by id, and B's rows
/// cannot be inserted, updated into, updated or deleted. All rolled back.
pub async fn cross_tenant(app: &Db, owner: &OwnerDb) -> Result<Vec<Check>> {
    let tenants: Vec<TenantId> = sqlx::query_scalar(
        "SELECT t.id FROM platform.tenants t
          ORDER BY (SELECT count(*) FROM clinic.patients p WHERE p.tenant_id = t.id) DESC, t.code
          LIMIT 2",
    )
    .fetch_all(&owner.pool)
    .await?;
    let [a, b] = tenants[..] else {
        return Ok(vec![Check::new(
            "cross-tenant: probes",
            true,
            "skipped: needs two tenants",
        )]);
    };
    let mut checks = Vec::new();
    for table in clinic_tables(owner).await? {
        checks.push(probe_table(app, owner, &table, a, b).await?);
    }
    Ok(checks)
}

async fn probe_table(
    app: &Db,
    owner: &OwnerDb,
    table: &str,
    a: TenantId,
    b: TenantId,
) -> Result<Check> {
    let t = format!("clinic.{}", quote_ident(table));
    let mut problems = Vec::new();
    let owner_a = owner_count(owner, table, Some(a)).await?;
    let owner_b = owner_count(owner, table, Some(b)).await?;

    // What A sees: exactly A's rows, none of B's.
    let mut tx = app.tenant_tx_for(a).await?;
    let (seen_all, seen_other): (i64, i64) = sqlx::query_as(&format!(
        "SELECT count(*), count(*) FILTER (WHERE tenant_id <> $1) FROM {t}"
    ))
    .bind(a)
    .fetch_one(tx.conn())
    .await?;
    if seen_other != 0 {
        problems.push(format!("A sees {seen_other} rows of other tenants"));
    }
    if seen_all != owner_a {
        problems.push(format!("A sees {seen_all} rows, owns {owner_a}"));
    }

    // Fetch one of B's rows by id.
    let has_id: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'id' AND NOT attisdropped)",
    )
    .bind(&t)
    .fetch_one(&owner.pool)
    .await?;
    if has_id && owner_b > 0 {
        let b_id: sqlx::types::Uuid =
            sqlx::query_scalar(&format!("SELECT id FROM {t} WHERE tenant_id = $1 LIMIT 1"))
                .bind(b)
                .fetch_one(&owner.pool)
                .await?;
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {t} WHERE id = $1"))
            .bind(b_id)
            .fetch_one(tx.conn())
            .await?;
        if n != 0 {
            problems.push("A fetched B's row by id".to_owned());
        }
    }

    // Update and delete B's rows: nothing matches. Tables the runtime role may
    // not UPDATE or DELETE at all (tenant keys, the audit log) need no probe:
    // the privilege check refuses before any row is looked at.
    let may = |privilege: &'static str| {
        sqlx::query_scalar::<_, bool>("SELECT has_table_privilege($1::regclass, $2)")
            .bind(t.clone())
            .bind(privilege)
    };
    let may_update = may("UPDATE").fetch_one(tx.conn()).await?;
    let may_delete = may("DELETE").fetch_one(tx.conn()).await?;
    let updated = if may_update {
        // A trigger writing elsewhere (the name vocabulary) can be what stops
        // an update that reached B's rows: that is a leak too.
        sqlx::query("SAVEPOINT probe_update")
            .execute(tx.conn())
            .await?;
        match sqlx::query(&format!(
            "UPDATE {t} SET tenant_id = tenant_id WHERE tenant_id = $1"
        ))
        .bind(b)
        .execute(tx.conn())
        .await
        {
            Ok(done) => done.rows_affected(),
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42501") => {
                problems.push(format!(
                    "A reached B's rows: an UPDATE was stopped only by another check ({e})"
                ));
                sqlx::query("ROLLBACK TO SAVEPOINT probe_update")
                    .execute(tx.conn())
                    .await?;
                0
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        0
    };
    let deleted = if may_delete {
        // A foreign key into this table (appointments → patients) can stop a
        // delete that reached B's rows: that is a leak too, not an error.
        match sqlx::query(&format!("DELETE FROM {t} WHERE tenant_id = $1"))
            .bind(b)
            .execute(tx.conn())
            .await
        {
            Ok(done) => done.rows_affected(),
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("23503") => {
                problems.push(
                    "A reached B's rows: a DELETE was stopped only by a foreign key".to_owned(),
                );
                0
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        0
    };
    if updated + deleted != 0 {
        problems.push(format!(
            "A updated {updated} and deleted {deleted} of B's rows"
        ));
    }
    tx.rollback().await?;

    // Write a row into B, by insert and by moving one of A's rows: refused by the
    // policy's WITH CHECK (SQLSTATE 42501), not by some other constraint.
    if owner_a > 0 {
        let cols: Vec<String> = sqlx::query_scalar(
            "SELECT attname::text FROM pg_attribute
              WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
              ORDER BY attnum",
        )
        .bind(&t)
        .fetch_all(&owner.pool)
        .await?;
        let select: Vec<String> = cols
            .iter()
            .map(|c| match c.as_str() {
                "tenant_id" => "$2::uuid".to_owned(),
                "id" => "gen_random_uuid()".to_owned(),
                other => quote_ident(other),
            })
            .collect();
        let col_list: Vec<String> = cols.iter().map(|c| quote_ident(c)).collect();
        let insert = format!(
            "INSERT INTO {t} ({}) SELECT {} FROM {t} WHERE tenant_id = $1 LIMIT 1",
            col_list.join(", "),
            select.join(", ")
        );
        let move_row = format!(
            "UPDATE {t} SET tenant_id = $2 WHERE ctid = (SELECT ctid FROM {t} WHERE tenant_id = $1 LIMIT 1)"
        );
        for (what, sql) in [("insert into B", insert), ("move a row to B", move_row)] {
            let mut tx = app.tenant_tx_for(a).await?;
            let outcome = sqlx::query(&sql).bind(a).bind(b).execute(tx.conn()).await;
            drop(tx);
            match outcome {
                Err(sqlx::Error::Database(e)) if refused_by_own_check(e.as_ref(), table) => {}
                Err(e) => problems.push(format!(
                    "{what}: refused, but not by this table's policy ({e})"
                )),
                Ok(done) => {
                    problems.push(format!("{what}: succeeded ({} rows)", done.rows_affected()))
                }
            }
        }
    }
    let vacuous = if owner_a == 0 || owner_b == 0 {
        " (a tenant has no rows here: partly vacuous)"
    } else {
        ""
    };
    Ok(Check::new(
        format!("cross-tenant: clinic.{table}"),
        problems.is_empty(),
        if problems.is_empty() {
            format!(
                "A sees {owner_a} own rows, none of B's {owner_b}; writes into B refused{vacuous}"
            )
        } else {
            problems.join("; ")
        },
    ))
}

/// A write refused by `table`'s own row-level security policy or privileges
/// (SQLSTATE 42501 naming `table`), not by a trigger's write to another table.
fn refused_by_own_check(e: &dyn sqlx::error::DatabaseError, table: &str) -> bool {
    let message = e.message();
    e.code().as_deref() == Some("42501")
        && (message.ends_with(&format!("\"{table}\"")) || message.ends_with(&format!(" {table}")))
}
