//! SQL for `clinic.patients`. The only place patients are queried.

use super::model::{prefix_range, Patient, PatientQuery, Sex};
use crate::db::TenantTx;
use crate::ids::PatientId;
use crate::Result;
use chrono::NaiveDate;

type Row = (PatientId, String, String, String, String, Option<NaiveDate>);

fn to_patient(
    (id, mr_number, full_name, father_or_husband_name, sex, date_of_birth): Row,
) -> Patient {
    Patient {
        id,
        mr_number,
        full_name,
        father_or_husband_name,
        sex: Sex::parse(&sex).unwrap_or(Sex::Other),
        date_of_birth,
    }
}

const COLUMNS: &str = "id, mr_number, full_name, father_or_husband_name, sex, date_of_birth";

pub async fn get(tx: &mut TenantTx, id: PatientId) -> Result<Option<Patient>> {
    let tenant = tx.tenant();
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM clinic.patients WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(to_patient))
}

/// One page of patients matching `query`, ordered by name then id; fetches one
/// extra row to tell whether another page exists.
pub async fn search(
    tx: &mut TenantTx,
    query: &PatientQuery,
    limit: u32,
    offset: u32,
) -> Result<Vec<Patient>> {
    let tenant = tx.tenant();
    let (filter, range) = match query {
        PatientQuery::All => ("", None),
        PatientQuery::NamePrefix(p) => (
            "AND name_key >= $4 AND name_key < $5",
            Some(prefix_range(p)),
        ),
        PatientQuery::MrPrefix(p) => (
            "AND mr_number >= $4 AND mr_number < $5",
            Some(prefix_range(p)),
        ),
    };
    let order = match query {
        PatientQuery::MrPrefix(_) => "mr_number",
        _ => "name_key, id",
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM clinic.patients WHERE tenant_id = $1 {filter}
          ORDER BY {order} LIMIT $2 OFFSET $3"
    );
    let mut q = sqlx::query_as::<_, Row>(&sql)
        .bind(tenant)
        .bind(i64::from(limit))
        .bind(i64::from(offset));
    if let Some((lo, hi)) = range {
        q = q.bind(lo).bind(hi);
    }
    Ok(q.fetch_all(tx.conn())
        .await?
        .into_iter()
        .map(to_patient)
        .collect())
}

/// A patient to insert (seed and, later, registration).
pub struct NewPatient {
    pub mr_number: String,
    pub full_name: String,
    pub father_or_husband_name: String,
    pub sex: Sex,
    pub date_of_birth: Option<NaiveDate>,
}

/// Inserts many patients in one statement.
pub async fn insert_many(tx: &mut TenantTx, patients: &[NewPatient]) -> Result<u64> {
    let tenant = tx.tenant();
    let mr: Vec<&str> = patients.iter().map(|p| p.mr_number.as_str()).collect();
    let names: Vec<&str> = patients.iter().map(|p| p.full_name.as_str()).collect();
    let fathers: Vec<&str> = patients
        .iter()
        .map(|p| p.father_or_husband_name.as_str())
        .collect();
    let sexes: Vec<&str> = patients.iter().map(|p| p.sex.as_str()).collect();
    let dobs: Vec<Option<NaiveDate>> = patients.iter().map(|p| p.date_of_birth).collect();
    let done = sqlx::query(
        "INSERT INTO clinic.patients (tenant_id, mr_number, full_name, father_or_husband_name, sex, date_of_birth)
         SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::date[])",
    )
    .bind(tenant)
    .bind(mr)
    .bind(names)
    .bind(fathers)
    .bind(sexes)
    .bind(dobs)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

pub async fn count(tx: &mut TenantTx) -> Result<i64> {
    let tenant = tx.tenant();
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM clinic.patients WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_one(tx.conn())
            .await?,
    )
}

/// Updates a patient's demographics; false when no such patient (in this tenant).
pub async fn update(tx: &mut TenantTx, id: PatientId, p: &PatientUpdate) -> Result<bool> {
    let tenant = tx.tenant();
    let n = sqlx::query(
        "UPDATE clinic.patients
            SET full_name = $3, father_or_husband_name = $4, sex = $5, date_of_birth = $6
          WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(&p.full_name)
    .bind(&p.father_or_husband_name)
    .bind(p.sex.as_str())
    .bind(p.date_of_birth)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Validated demographics for an update.
pub struct PatientUpdate {
    pub full_name: String,
    pub father_or_husband_name: String,
    pub sex: Sex,
    pub date_of_birth: Option<NaiveDate>,
}
