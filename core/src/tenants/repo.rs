//! SQL for `platform.tenants`.

use super::Tenant;
use crate::db::PlatformTx;
use crate::ids::TenantId;
use crate::Result;

pub async fn find_by_code(tx: &mut PlatformTx, code: &str) -> Result<Option<Tenant>> {
    Ok(sqlx::query_as::<_, Tenant>(
        "SELECT id, code, name, tier FROM platform.tenants WHERE code = $1",
    )
    .bind(code)
    .fetch_optional(tx.conn())
    .await?)
}

pub async fn list(tx: &mut PlatformTx) -> Result<Vec<Tenant>> {
    Ok(sqlx::query_as::<_, Tenant>(
        "SELECT id, code, name, tier FROM platform.tenants ORDER BY code",
    )
    .fetch_all(tx.conn())
    .await?)
}

/// Moves a tenant to another tier (owner connection only).
pub async fn set_tier(tx: &mut PlatformTx, id: TenantId, tier: &str) -> Result<()> {
    sqlx::query("UPDATE platform.tenants SET tier = $2 WHERE id = $1")
        .bind(id)
        .bind(tier)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Creates a tenant (owner connection only: the runtime role cannot insert here).
pub async fn create(
    tx: &mut PlatformTx,
    id: TenantId,
    code: &str,
    name: &str,
    tier: &str,
) -> Result<Tenant> {
    Ok(sqlx::query_as::<_, Tenant>(
        "INSERT INTO platform.tenants (id, code, name, tier) VALUES ($1, $2, $3, $4)
         RETURNING id, code, name, tier",
    )
    .bind(id)
    .bind(code)
    .bind(name)
    .bind(tier)
    .fetch_one(tx.conn())
    .await?)
}
