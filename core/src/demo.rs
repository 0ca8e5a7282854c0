//! Demo data: two clinics, one user per built-in role each, a few hundred
//! patients with realistic Pakistani names. Idempotent: re-running keeps the
//! data and the passwords already handed out.

use crate::auth::{self, workstations, Auth, NewUser};
use crate::db::{Db, OwnerDb};
use crate::ids::TenantId;
use crate::patients::repo::{self as patients_repo, NewPatient};
use crate::patients::{Address, Cnic, Phone, Sex};
use crate::rbac::Role;
use crate::{scheduling, tenants, Result};
use chrono::{Datelike, NaiveDate, NaiveTime};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// The demo clinics: code, name, number of patients, tier (custom roles come
/// with the hospital tier, so the demo shows both).
pub const CLINICS: [(&str, &str, usize, &str); 2] = [
    ("alnoor", "Al-Noor Clinic", 320, "clinic"),
    ("shifa", "Shifa Medical Centre", 260, "hospital"),
];

/// One demo login, as written to `.healipro/demo-logins.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoLogin {
    pub clinic_code: String,
    pub clinic_name: String,
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub roles: Vec<String>,
    /// Base32 TOTP secret (for any authenticator app) of users who need one.
    #[serde(default)]
    pub totp_secret: Option<String>,
}

/// The names list from `shared/data` (kind, name, variants).
pub struct Names {
    pub male: Vec<String>,
    pub female: Vec<String>,
    pub family: Vec<String>,
}

impl Names {
    pub fn load() -> Result<Names> {
        let mut names = Names {
            male: Vec::new(),
            female: Vec::new(),
            family: Vec::new(),
        };
        let mut rdr = csv::Reader::from_reader(include_str!("../data/pk_names.csv").as_bytes());
        for rec in rdr.records() {
            let rec = rec.map_err(|e| crate::Error::Internal(format!("names list: {e}")))?;
            let name = rec.get(1).unwrap_or_default().to_owned();
            match rec.get(0) {
                Some("male_given") => names.male.push(name),
                Some("female_given") => names.female.push(name),
                Some("family") => names.family.push(name),
                _ => {}
            }
        }
        Ok(names)
    }

    /// `count` patients, deterministic for a given `seed`.
    pub fn patients(&self, seed: u64, count: usize) -> Vec<NewPatient> {
        let mut rng = StdRng::seed_from_u64(seed);
        (1..=count)
            .map(|n| {
                let family = pick(&mut rng, &self.family);
                let sex = if rng.gen_bool(0.5) {
                    Sex::Female
                } else {
                    Sex::Male
                };
                let given = match sex {
                    Sex::Female => pick(&mut rng, &self.female),
                    _ => pick(&mut rng, &self.male),
                };
                // Married women are often registered with the husband's name.
                let relative_family = if sex == Sex::Female && rng.gen_bool(0.4) {
                    pick(&mut rng, &self.family)
                } else {
                    family.clone()
                };
                let relative = format!("{} {relative_family}", pick(&mut rng, &self.male));
                let dob = NaiveDate::from_ymd_opt(
                    rng.gen_range(1940..=2024),
                    rng.gen_range(1..=12),
                    rng.gen_range(1..=28),
                );
                let date_of_birth = if rng.gen_bool(0.9) { dob } else { None };
                // Children have no CNIC yet (a B-form instead); everyone
                // has a phone (often a parent's) and an address.
                let adult = date_of_birth.is_none_or(|d| d.year() <= 2007);
                let (cnic, phone, address) = demo_identifiers(&mut rng, sex, adult);
                NewPatient {
                    mr_number: format!("MR-{n:06}"),
                    full_name: format!("{given} {family}"),
                    father_or_husband_name: relative,
                    sex,
                    date_of_birth,
                    date_of_birth_estimated: false,
                    cnic,
                    phone,
                    address,
                }
            })
            .collect()
    }
}

/// A plausible CNIC (province digit first; the last digit odd for men, even
/// for women; adults only), mobile number and address.
pub fn demo_identifiers(
    rng: &mut StdRng,
    sex: Sex,
    adult: bool,
) -> (Option<Cnic>, Option<Phone>, Option<Address>) {
    const AREAS: &[&str] = &[
        "Gulberg III, Lahore",
        "Model Town, Lahore",
        "Saddar, Rawalpindi",
        "G-9/2, Islamabad",
        "Gulshan-e-Iqbal, Karachi",
        "Hayatabad, Peshawar",
        "Satellite Town, Quetta",
        "Cantt, Multan",
        "Civil Lines, Faisalabad",
    ];
    let mut cnic = format!("{}", rng.gen_range(1..=7));
    for _ in 0..11 {
        cnic.push(char::from(b'0' + rng.gen_range(0..10u8)));
    }
    let last = rng.gen_range(0..5u8) * 2 + u8::from(sex == Sex::Male);
    cnic.push(char::from(b'0' + last));
    let phone = format!(
        "03{:02}{:07}",
        rng.gen_range(0..50),
        rng.gen_range(0..10_000_000)
    );
    let address = format!(
        "House {}, Street {}, {}",
        rng.gen_range(1..400),
        rng.gen_range(1..40),
        AREAS[rng.gen_range(0..AREAS.len())]
    );
    (
        adult.then(|| Cnic::parse(&cnic).ok()).flatten(),
        Phone::parse(&phone).ok(),
        Address::parse(&address).ok(),
    )
}

fn pick(rng: &mut StdRng, list: &[String]) -> String {
    list.choose(rng)
        .cloned()
        .unwrap_or_else(|| "Khan".to_owned())
}

/// A readable random password (four words and two digits, ≥ 20 characters).
pub fn generate_password() -> String {
    const WORDS: &[&str] = &[
        "mango", "river", "indus", "lahore", "karachi", "quetta", "saffron", "falcon", "cedar",
        "monsoon", "jasmine", "lotus", "amber", "marble", "copper", "harbor", "orchid", "pepper",
        "silver", "thunder", "valley", "walnut", "zephyr", "bamboo", "cobalt", "desert", "ember",
        "glacier", "kettle", "lantern", "meadow", "nectar",
    ];
    let mut rng = rand::rngs::OsRng;
    let words: Vec<&str> = (0..4)
        .map(|_| *WORDS.choose(&mut rng).unwrap_or(&"mango"))
        .collect();
    format!("{}-{:02}", words.join("-"), rng.gen_range(10..100))
}

fn demo_staff(names: &Names, seed: u64) -> Vec<NewUser> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let person = |rng: &mut StdRng, female: bool| {
        let given = pick(rng, if female { &names.female } else { &names.male });
        format!("{given} {}", pick(rng, &names.family))
    };
    [
        ("admin", Role::Admin, false, ""),
        ("doctor", Role::Doctor, true, "Dr. "),
        ("operator", Role::Operator, false, ""),
        ("pharmacist", Role::Pharmacist, false, ""),
        ("labtech", Role::LabTech, true, ""),
        ("auditor", Role::Auditor, false, ""),
    ]
    .into_iter()
    .map(|(username, role, female, title)| NewUser {
        username: username.to_owned(),
        display_name: format!("{title}{}", person(&mut rng, female)),
        roles: vec![role],
    })
    .collect()
}

/// Creates (or completes) the demo clinics. Passwords found in `existing` are
/// kept for users that already exist; anyone else gets a new password.
pub async fn seed(
    owner: &OwnerDb,
    app: &Db,
    auth: &Auth,
    existing: &[DemoLogin],
) -> Result<Vec<DemoLogin>> {
    let names = Names::load()?;
    let mut logins = Vec::new();
    for (index, (code, name, patient_count, tier)) in CLINICS.into_iter().enumerate() {
        let seed = index as u64 + 1;
        let tenant = ensure_tenant_with_tier(owner, code, name, tier).await?;
        crate::crypto::rotation::ensure_tenant_keys(app, tenant).await?;
        let mut tx = app.tenant_tx_for(tenant).await?;
        for user in demo_staff(&names, seed) {
            let known = existing
                .iter()
                .find(|l| l.clinic_code == code && l.username == user.username);
            let exists = auth::user_exists(&mut tx, &user.username).await?;
            // An enrolment reset (e.g. by a migration) re-enrols with the
            // secret printed before, so testers' authenticator apps still work.
            let enrolled = exists && auth::totp_enrolled(&mut tx, &user.username).await?;
            let password = match (known.map(|l| l.password.clone()), exists) {
                (Some(pw), true) => pw,
                (known, _) => {
                    let pw = known.unwrap_or_else(generate_password);
                    auth::upsert_user(
                        &mut tx,
                        auth.passwords(),
                        &user,
                        &SecretString::from(pw.clone()),
                    )
                    .await?;
                    pw
                }
            };
            // Doctors and admins must use TOTP: enrol them with a secret the
            // seed prints, so a tester can add it to any authenticator app.
            let needs_totp = user
                .roles
                .iter()
                .any(|r| matches!(r, Role::Admin | Role::Doctor));
            let known_secret = known.and_then(|l| l.totp_secret.clone());
            let totp_secret = match (needs_totp, known_secret) {
                (false, _) => None,
                (true, Some(secret)) if enrolled => Some(secret),
                (true, known_secret) => {
                    let secret = known_secret
                        .and_then(|s| auth::totp::parse_base32(&s))
                        .unwrap_or_else(|| auth::totp::new_secret().to_vec());
                    let id = auth::user_id(&mut tx, &user.username).await?;
                    auth.enrol_with_secret(&mut tx, id, &secret).await?;
                    Some(auth::totp::base32(&secret))
                }
            };
            logins.push(DemoLogin {
                clinic_code: code.to_owned(),
                clinic_name: name.to_owned(),
                username: user.username.clone(),
                display_name: user.display_name.clone(),
                password,
                roles: user.roles.iter().map(|r| r.as_str().to_owned()).collect(),
                totp_secret,
            });
        }
        if workstations::list(&mut tx).await?.is_empty() {
            for (name, location, minutes) in [
                ("Front desk PC", "Reception", 15),
                ("Room 1 tablet", "Consultation room 1", 10),
            ] {
                let input = workstations::WorkstationInput {
                    name: name.to_owned(),
                    location: location.to_owned(),
                    idle_timeout_secs: minutes * 60,
                };
                workstations::create(&mut tx, &input).await?;
            }
        }
        // Doctors without hours see patients Mon–Sat 09:00–13:00 in 15-minute
        // slots, so the front desk has slots to book (hours set since stay).
        for user in demo_staff(&names, seed)
            .iter()
            .filter(|u| u.roles.contains(&Role::Doctor))
        {
            let id = auth::user_id(&mut tx, &user.username).await?;
            if scheduling::repo::hours(&mut tx, id).await?.is_empty() {
                let morning = |weekday| scheduling::WeeklyHours {
                    weekday,
                    starts: NaiveTime::from_hms_opt(9, 0, 0).expect("a valid time"),
                    ends: NaiveTime::from_hms_opt(13, 0, 0).expect("a valid time"),
                    slot_minutes: 15,
                    fee_pkr: None,
                };
                let week: Vec<_> = (1..=6).map(morning).collect();
                scheduling::repo::replace_hours(&mut tx, id, &week).await?;
            }
        }
        if patients_repo::count(&mut tx).await? == 0 {
            patients_repo::insert_many(&mut tx, &names.patients(seed, patient_count)).await?;
        }
        tx.commit().await?;
    }
    Ok(logins)
}

/// Returns the tenant with `code`, creating it (as the owner) when absent.
pub async fn ensure_tenant(owner: &OwnerDb, code: &str, name: &str) -> Result<TenantId> {
    ensure_tenant_with_tier(owner, code, name, "clinic").await
}

/// [`ensure_tenant`] on a given tier (an existing tenant is moved to it).
pub async fn ensure_tenant_with_tier(
    owner: &OwnerDb,
    code: &str,
    name: &str,
    tier: &str,
) -> Result<TenantId> {
    let mut ptx = owner.platform_tx().await?;
    let tenant = match tenants::repo::find_by_code(&mut ptx, code).await? {
        Some(t) => {
            if t.tier != tier {
                tenants::repo::set_tier(&mut ptx, t.id, tier).await?;
            }
            t.id
        }
        None => {
            tenants::repo::create(&mut ptx, TenantId::new_random(), code, name, tier)
                .await?
                .id
        }
    };
    ptx.commit().await?;
    Ok(tenant)
}
