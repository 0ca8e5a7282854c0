//! SQL for `clinic.patients`. The only place patients are queried, and the
//! only place their identifiers are encrypted and decrypted (through the
//! tenant key ring of the transaction).

use super::identifiers::{Address, Cnic, Phone};
use super::model::{prefix_range, Patient, PatientQuery, Sex};
use super::names;
use crate::crypto::{Field, TenantKeys};
use crate::db::TenantTx;
use crate::ids::PatientId;
use crate::{Error, Result};
use chrono::NaiveDate;

#[derive(sqlx::FromRow)]
struct Row {
    id: PatientId,
    mr_number: String,
    full_name: String,
    father_or_husband_name: String,
    sex: String,
    date_of_birth: Option<NaiveDate>,
    date_of_birth_estimated: bool,
    cnic_enc: Option<Vec<u8>>,
    phone_enc: Option<Vec<u8>>,
    address_enc: Option<Vec<u8>>,
}

const COLUMNS: &str = "id, mr_number, full_name, father_or_husband_name, sex, date_of_birth, \
                       date_of_birth_estimated, cnic_enc, phone_enc, address_enc";

/// Decrypts one identifier and parses it back; a stored value that no longer
/// parses is a bug or tampering, reported without its content.
async fn open_field<T>(
    tx: &mut TenantTx,
    field: Field,
    id: PatientId,
    sealed: Option<Vec<u8>>,
    parse: fn(&str) -> std::result::Result<T, String>,
) -> Result<Option<T>> {
    let Some(sealed) = sealed else {
        return Ok(None);
    };
    let plain = secrecy::zeroize::Zeroizing::new(tx.decrypt(field, id.as_uuid(), &sealed).await?);
    let text = std::str::from_utf8(&plain)
        .map_err(|_| Error::Internal(format!("{field:?} of a patient is not text")))?;
    parse(text)
        .map(Some)
        .map_err(|_| Error::Internal(format!("{field:?} of a patient does not parse")))
}

async fn to_patient(tx: &mut TenantTx, row: Row) -> Result<Patient> {
    let cnic = open_field(tx, Field::PatientCnic, row.id, row.cnic_enc, Cnic::parse).await?;
    let phone = open_field(tx, Field::PatientPhone, row.id, row.phone_enc, Phone::parse).await?;
    let address = open_field(
        tx,
        Field::PatientAddress,
        row.id,
        row.address_enc,
        Address::parse,
    )
    .await?;
    Ok(Patient {
        id: row.id,
        mr_number: row.mr_number,
        full_name: row.full_name,
        father_or_husband_name: row.father_or_husband_name,
        sex: Sex::parse(&row.sex).unwrap_or(Sex::Other),
        date_of_birth: row.date_of_birth,
        date_of_birth_estimated: row.date_of_birth_estimated,
        cnic,
        phone,
        address,
    })
}

async fn to_patients(tx: &mut TenantTx, rows: Vec<Row>) -> Result<Vec<Patient>> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(to_patient(tx, row).await?);
    }
    Ok(out)
}

/// Whether this clinic has the patient (without reading, or decrypting, the record).
pub async fn exists(tx: &mut TenantTx, id: PatientId) -> Result<bool> {
    let tenant = tx.tenant();
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM clinic.patients WHERE tenant_id = $1 AND id = $2)",
    )
    .bind(tenant)
    .bind(id)
    .fetch_one(tx.conn())
    .await?)
}

pub async fn get(tx: &mut TenantTx, id: PatientId) -> Result<Option<Patient>> {
    let tenant = tx.tenant();
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM clinic.patients WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    match row {
        Some(row) => Ok(Some(to_patient(tx, row).await?)),
        None => Ok(None),
    }
}

/// One page of patients matching `query`; fetches whatever `limit` says (the
/// service asks for one extra row to tell whether another page exists). CNIC
/// and phone are exact matches on the blind index (never a scan of
/// ciphertexts); names go to [`search_names`].
pub async fn search(
    tx: &mut TenantTx,
    query: &PatientQuery,
    limit: u32,
    offset: u32,
) -> Result<Vec<Patient>> {
    let tenant = tx.tenant();
    let mut range = None;
    let mut bidx = None;
    let filter = match query {
        PatientQuery::NamePrefix(typed) => return search_names(tx, typed, limit, offset).await,
        PatientQuery::All => "",
        PatientQuery::MrPrefix(p) => {
            range = Some(prefix_range(p));
            "AND mr_number >= $4 AND mr_number < $5"
        }
        PatientQuery::MrDigits(d) => {
            range = Some(prefix_range(&format!("{}{d}", mr_prefix(tx).await?)));
            "AND mr_number >= $4 AND mr_number < $5"
        }
        PatientQuery::Cnic(c) => {
            bidx = Some(tx.keys().await?.blind_index(Field::PatientCnic, c.digits()));
            "AND cnic_bidx = $4"
        }
        PatientQuery::Phone(p) => {
            bidx = Some(tx.keys().await?.blind_index(Field::PatientPhone, p.e164()));
            "AND phone_bidx = $4"
        }
    };
    let order = match query {
        PatientQuery::MrPrefix(_) | PatientQuery::MrDigits(_) => "mr_number",
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
    if let Some(b) = bidx {
        q = q.bind(b.to_vec());
    }
    let rows = q.fetch_all(tx.conn()).await?;
    to_patients(tx, rows).await
}

/// Patients whose name matches `typed` (lowercased, spaces collapsed), best
/// first: the exact name, the exact canonical name ([`names::normalize`]:
/// "M. Ali" is "Muhammad Ali"), names starting with it, then by trigram
/// similarity of the canonical forms. `clinic.patient_name_matches` ranks
/// inside the tenant of the transaction (migration 0011 says why it must be a
/// function); the rows themselves are read here, through RLS as always.
pub async fn search_names(
    tx: &mut TenantTx,
    typed: &str,
    limit: u32,
    offset: u32,
) -> Result<Vec<Patient>> {
    let tenant = tx.tenant();
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM clinic.patient_name_matches($2, $3, $4, $5) AS m
           JOIN clinic.patients ON tenant_id = $1 AND id = m.patient_id
          ORDER BY m.rank"
    ))
    .bind(tenant)
    .bind(typed)
    .bind(names::normalize(typed))
    .bind(i64::from(limit))
    .bind(i64::from(offset))
    .fetch_all(tx.conn())
    .await?;
    to_patients(tx, rows).await
}

/// Patients of this clinic with the same CNIC or phone (the duplicate warning
/// at registration), at most `limit`.
pub async fn with_same_identifiers(
    tx: &mut TenantTx,
    cnic: Option<&Cnic>,
    phone: Option<&Phone>,
    limit: u32,
) -> Result<Vec<Patient>> {
    if cnic.is_none() && phone.is_none() {
        return Ok(Vec::new());
    }
    let tenant = tx.tenant();
    let keys = tx.keys().await?;
    let cnic_bidx = cnic.map(|c| keys.blind_index(Field::PatientCnic, c.digits()).to_vec());
    let phone_bidx = phone.map(|p| keys.blind_index(Field::PatientPhone, p.e164()).to_vec());
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM clinic.patients WHERE tenant_id = $1 AND cnic_bidx = $2
         UNION
         SELECT {COLUMNS} FROM clinic.patients WHERE tenant_id = $1 AND phone_bidx = $3
         ORDER BY mr_number LIMIT $4"
    ))
    .bind(tenant)
    .bind(cnic_bidx)
    .bind(phone_bidx)
    .bind(i64::from(limit))
    .fetch_all(tx.conn())
    .await?;
    to_patients(tx, rows).await
}

/// Patients of this clinic who may be the person being registered without
/// sharing an identifier: a very similar name (the canonical forms of
/// [`names::normalize`] at trigram similarity 0.6 or more), a very similar
/// father's or husband's name, and, when both are known, dates of birth at
/// most three years apart (ages are often guessed). Best match first, at most
/// `limit`. Candidates come from `clinic.patient_name_matches` (the trigram
/// index, inside this tenant); the rest is checked on those few rows.
pub async fn with_similar_name(
    tx: &mut TenantTx,
    full_name: &str,
    father_or_husband_name: &str,
    date_of_birth: Option<NaiveDate>,
    limit: u32,
) -> Result<Vec<Patient>> {
    let father = names::normalize(father_or_husband_name);
    if father.is_empty() {
        return Ok(Vec::new());
    }
    let typed = full_name.to_lowercase();
    let tenant = tx.tenant();
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM clinic.patient_name_matches($2, $3, 50, 0) AS m
           JOIN clinic.patients ON tenant_id = $1 AND id = m.patient_id
          WHERE similarity(name_norm, $3) >= 0.6
            AND similarity(clinic.normalize_name(father_or_husband_name), $4) >= 0.6
            AND ($5::date IS NULL OR date_of_birth IS NULL
                 OR abs(date_of_birth - $5::date) <= 3 * 366)
          ORDER BY m.rank LIMIT $6"
    ))
    .bind(tenant)
    .bind(&typed)
    .bind(names::normalize(&typed))
    .bind(father)
    .bind(date_of_birth)
    .bind(i64::from(limit))
    .fetch_all(tx.conn())
    .await?;
    to_patients(tx, rows).await
}

/// A patient to insert (registration, seed, benchmarks).
pub struct NewPatient {
    pub mr_number: String,
    pub full_name: String,
    pub father_or_husband_name: String,
    pub sex: Sex,
    pub date_of_birth: Option<NaiveDate>,
    /// The date of birth was worked out from an age.
    pub date_of_birth_estimated: bool,
    pub cnic: Option<Cnic>,
    pub phone: Option<Phone>,
    pub address: Option<Address>,
}

/// A patient's identifiers encrypted for row `id`, with their blind indexes.
struct Sealed {
    cnic: Option<Vec<u8>>,
    cnic_bidx: Option<Vec<u8>>,
    phone: Option<Vec<u8>>,
    phone_bidx: Option<Vec<u8>>,
    address: Option<Vec<u8>>,
}

fn seal(
    keys: &TenantKeys,
    id: PatientId,
    cnic: Option<&Cnic>,
    phone: Option<&Phone>,
    address: Option<&Address>,
) -> Result<Sealed> {
    let row = id.as_uuid();
    Ok(Sealed {
        cnic: cnic
            .map(|c| keys.encrypt(Field::PatientCnic, row, c.digits().as_bytes()))
            .transpose()?,
        cnic_bidx: cnic.map(|c| keys.blind_index(Field::PatientCnic, c.digits()).to_vec()),
        phone: phone
            .map(|p| keys.encrypt(Field::PatientPhone, row, p.e164().as_bytes()))
            .transpose()?,
        phone_bidx: phone.map(|p| keys.blind_index(Field::PatientPhone, p.e164()).to_vec()),
        address: address
            .map(|a| keys.encrypt(Field::PatientAddress, row, a.as_str().as_bytes()))
            .transpose()?,
    })
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// Binds the five sealed columns (cnic, cnic_bidx, phone, phone_bidx,
/// address) of many rows as arrays, in that order.
fn bind_sealed<'q>(q: Query<'q>, sealed: &[Sealed]) -> Query<'q> {
    let pluck = |f: fn(&Sealed) -> &Option<Vec<u8>>| -> Vec<Option<Vec<u8>>> {
        sealed.iter().map(|s| f(s).clone()).collect()
    };
    q.bind(pluck(|s| &s.cnic))
        .bind(pluck(|s| &s.cnic_bidx))
        .bind(pluck(|s| &s.phone))
        .bind(pluck(|s| &s.phone_bidx))
        .bind(pluck(|s| &s.address))
}

/// Inserts many patients in one statement; returns their ids in order.
pub async fn insert_many(tx: &mut TenantTx, patients: &[NewPatient]) -> Result<Vec<PatientId>> {
    let tenant = tx.tenant();
    let keys = tx.keys_for_write().await?;
    let ids: Vec<PatientId> = patients.iter().map(|_| PatientId::new_random()).collect();
    let mut sealed = Vec::with_capacity(patients.len());
    for (p, id) in patients.iter().zip(&ids) {
        sealed.push(seal(
            &keys,
            *id,
            p.cnic.as_ref(),
            p.phone.as_ref(),
            p.address.as_ref(),
        )?);
    }
    let insert = sqlx::query(
        "INSERT INTO clinic.patients (tenant_id, id, mr_number, full_name, father_or_husband_name,
                                      sex, date_of_birth, cnic_enc, cnic_bidx, phone_enc,
                                      phone_bidx, address_enc, date_of_birth_estimated)
         SELECT $1, * FROM UNNEST($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
                                  $7::date[], $8::bytea[], $9::bytea[], $10::bytea[],
                                  $11::bytea[], $12::bytea[], $13::bool[])",
    )
    .bind(tenant)
    .bind(ids.iter().map(PatientId::as_uuid).collect::<Vec<_>>())
    .bind(
        patients
            .iter()
            .map(|p| p.mr_number.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        patients
            .iter()
            .map(|p| p.full_name.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        patients
            .iter()
            .map(|p| p.father_or_husband_name.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(patients.iter().map(|p| p.sex.as_str()).collect::<Vec<_>>())
    .bind(patients.iter().map(|p| p.date_of_birth).collect::<Vec<_>>());
    bind_sealed(insert, &sealed)
        .bind(
            patients
                .iter()
                .map(|p| p.date_of_birth_estimated)
                .collect::<Vec<_>>(),
        )
        .execute(tx.conn())
        .await?;
    // Loads (seed, fixtures, benchmarks) bring their own numbers: registration
    // continues after the highest.
    let highest = patients
        .iter()
        .filter_map(|p| mr_sequence(&p.mr_number))
        .max();
    if let Some(n) = highest {
        sqlx::query(
            "INSERT INTO clinic.mr_counters (tenant_id, last_number) VALUES ($1, $2)
             ON CONFLICT (tenant_id) DO UPDATE
                SET last_number = greatest(clinic.mr_counters.last_number, EXCLUDED.last_number)",
        )
        .bind(tenant)
        .bind(n)
        .execute(tx.conn())
        .await?;
    }
    Ok(ids)
}

/// The number at the end of an MR number (`MR-000123` → 123), if any.
fn mr_sequence(mr: &str) -> Option<i64> {
    let digits = mr.len() - mr.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    mr[mr.len() - digits..]
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
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

/// The clinic's next MR number: its prefix and the next of its count, six
/// digits at least. The counter row stays locked until the registration
/// commits, so concurrent registrations queue and a rolled-back one gives its
/// number back (unique and gap-free; migration 0012).
pub async fn next_mr_number(tx: &mut TenantTx) -> Result<String> {
    let tenant = tx.tenant();
    let (prefix, n): (String, i64) = sqlx::query_as(
        "WITH next AS (
             INSERT INTO clinic.mr_counters (tenant_id, last_number) VALUES ($1, 1)
             ON CONFLICT (tenant_id) DO UPDATE SET last_number = clinic.mr_counters.last_number + 1
             RETURNING last_number)
         SELECT coalesce((SELECT mr_prefix FROM clinic.tenant_settings WHERE tenant_id = $1), $2),
                last_number
           FROM next",
    )
    .bind(tenant)
    .bind(DEFAULT_MR_PREFIX)
    .fetch_one(tx.conn())
    .await?;
    Ok(format!("{prefix}{n:06}"))
}

/// The prefix of MR numbers when a clinic has not chosen one.
pub const DEFAULT_MR_PREFIX: &str = "MR-";

/// The clinic's MR-number prefix.
pub async fn mr_prefix(tx: &mut TenantTx) -> Result<String> {
    let tenant = tx.tenant();
    let prefix: Option<String> =
        sqlx::query_scalar("SELECT mr_prefix FROM clinic.tenant_settings WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_optional(tx.conn())
            .await?;
    Ok(prefix.unwrap_or_else(|| DEFAULT_MR_PREFIX.to_owned()))
}

/// Sets the clinic's MR-number prefix (already validated).
pub async fn set_mr_prefix(tx: &mut TenantTx, prefix: &str) -> Result<()> {
    let tenant = tx.tenant();
    sqlx::query(
        "INSERT INTO clinic.tenant_settings (tenant_id, mr_prefix) VALUES ($1, $2)
         ON CONFLICT (tenant_id) DO UPDATE SET mr_prefix = EXCLUDED.mr_prefix, updated_at = now()",
    )
    .bind(tenant)
    .bind(prefix)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Updates a patient's demographics and identifiers; false when no such
/// patient (in this tenant).
pub async fn update(tx: &mut TenantTx, id: PatientId, p: &PatientUpdate) -> Result<bool> {
    let tenant = tx.tenant();
    let keys = tx.keys_for_write().await?;
    let sealed = seal(
        &keys,
        id,
        p.cnic.as_ref(),
        p.phone.as_ref(),
        p.address.as_ref(),
    )?;
    let n = sqlx::query(
        "UPDATE clinic.patients
            SET full_name = $3, father_or_husband_name = $4, sex = $5, date_of_birth = $6,
                cnic_enc = $7, cnic_bidx = $8, phone_enc = $9, phone_bidx = $10, address_enc = $11,
                date_of_birth_estimated = $12
          WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(&p.full_name)
    .bind(&p.father_or_husband_name)
    .bind(p.sex.as_str())
    .bind(p.date_of_birth)
    .bind(sealed.cnic)
    .bind(sealed.cnic_bidx)
    .bind(sealed.phone)
    .bind(sealed.phone_bidx)
    .bind(sealed.address)
    .bind(p.date_of_birth_estimated)
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
    pub date_of_birth_estimated: bool,
    pub cnic: Option<Cnic>,
    pub phone: Option<Phone>,
    pub address: Option<Address>,
}

/// Patients of this clinic without a CNIC, in id order after `after`, at most
/// `limit`: id and MR number (data loads such as the search benchmark page
/// through them and fill them with [`set_identifiers_many`]).
pub async fn without_cnic(
    tx: &mut TenantTx,
    after: Option<PatientId>,
    limit: u32,
) -> Result<Vec<(PatientId, String)>> {
    let tenant = tx.tenant();
    Ok(sqlx::query_as(
        "SELECT id, mr_number FROM clinic.patients
          WHERE tenant_id = $1 AND cnic_bidx IS NULL
            AND id > coalesce($2, '00000000-0000-0000-0000-000000000000'::uuid)
          ORDER BY id LIMIT $3",
    )
    .bind(tenant)
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(tx.conn())
    .await?)
}

/// A patient and the identifiers to give it ([`set_identifiers_many`]).
pub type IdentifiersRow = (PatientId, Option<Cnic>, Option<Phone>, Option<Address>);

/// Sets the identifiers of many existing patients in one statement (data
/// loads such as the search benchmark). Rows of other tenants are untouched.
pub async fn set_identifiers_many(tx: &mut TenantTx, rows: &[IdentifiersRow]) -> Result<u64> {
    let tenant = tx.tenant();
    let keys = tx.keys_for_write().await?;
    let mut sealed = Vec::with_capacity(rows.len());
    for (id, cnic, phone, address) in rows {
        sealed.push(seal(
            &keys,
            *id,
            cnic.as_ref(),
            phone.as_ref(),
            address.as_ref(),
        )?);
    }
    let update = sqlx::query(
        "UPDATE clinic.patients p
            SET cnic_enc = v.cnic_enc, cnic_bidx = v.cnic_bidx, phone_enc = v.phone_enc,
                phone_bidx = v.phone_bidx, address_enc = v.address_enc
           FROM UNNEST($2::uuid[], $3::bytea[], $4::bytea[], $5::bytea[], $6::bytea[], $7::bytea[])
                AS v(id, cnic_enc, cnic_bidx, phone_enc, phone_bidx, address_enc)
          WHERE p.tenant_id = $1 AND p.id = v.id",
    )
    .bind(tenant)
    .bind(rows.iter().map(|r| r.0.as_uuid()).collect::<Vec<_>>());
    let done = bind_sealed(update, &sealed).execute(tx.conn()).await?;
    Ok(done.rows_affected())
}
