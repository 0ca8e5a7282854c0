//! Patient names for the benchmark data, and the names a front desk types to
//! find them (`cargo xtask bench search`, name lookups).
//!
//! The names come from the same list as the demo seed and the name search's
//! own tests (`core/data/pk_names.csv`, a copy of `shared/data/pk_names.csv`:
//! kind, canonical name, spelling variants). Stored names are spelt the way
//! clinics register them: mostly the canonical spelling, sometimes a variant
//! ("Mohammad", "Hasan"), men often "Muhammad <name> <family>", common names
//! more often than rare ones. The typed searches misspell them the way the
//! search has to forgive: another spelling, an initial ("M. Ali"), a dropped
//! letter.

use anyhow::{bail, Result};

/// `kind,name,variants` (variants `|`-separated, possibly empty).
const PK_NAMES: &str = include_str!("../../core/data/pk_names.csv");

/// Men whose name gets "Muhammad" (in some spelling) in front, in percent.
const MUHAMMAD_PREFIX_PERCENT: u32 = 35;
/// Given names stored in a variant spelling, in percent.
const GIVEN_VARIANT_PERCENT: u32 = 25;
/// Family names stored in a variant spelling, in percent.
const FAMILY_VARIANT_PERCENT: u32 = 15;

/// The names list: for each name, its spellings, the canonical one first.
#[derive(Debug)]
pub struct NameList {
    pub male: Vec<Vec<String>>,
    pub female: Vec<Vec<String>>,
    pub family: Vec<Vec<String>>,
}

impl NameList {
    /// The list compiled into xtask.
    pub fn load() -> Result<NameList> {
        parse_names(PK_NAMES)
    }

    /// The spellings of the name `word` (any spelling, case-insensitive)
    /// belongs to, lowercased, canonical first; the name it is the canonical
    /// spelling of wins ("Rida" is a name, and a spelling of "Raza").
    fn spellings_of(&self, word: &str) -> Option<Vec<String>> {
        let all = || self.male.iter().chain(&self.female).chain(&self.family);
        all()
            .find(|sp| sp[0].eq_ignore_ascii_case(word))
            .or_else(|| all().find(|sp| sp.iter().any(|s| s.eq_ignore_ascii_case(word))))
            .map(|sp| sp.iter().map(|s| s.to_lowercase()).collect())
    }
}

pub fn parse_names(csv: &str) -> Result<NameList> {
    let mut list = NameList {
        male: Vec::new(),
        female: Vec::new(),
        family: Vec::new(),
    };
    for (i, line) in csv.lines().enumerate().skip(1) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut f = line.splitn(3, ',');
        let (Some(kind), Some(name)) = (f.next(), f.next()) else {
            bail!("pk_names.csv line {}: {line:?}", i + 1);
        };
        let mut spellings = vec![name.trim().to_string()];
        spellings.extend(
            f.next()
                .unwrap_or_default()
                .split('|')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string),
        );
        match kind {
            "male_given" => list.male.push(spellings),
            "female_given" => list.female.push(spellings),
            "family" => list.family.push(spellings),
            other => bail!("pk_names.csv line {}: unknown kind {other:?}", i + 1),
        }
    }
    if list.male.is_empty() || list.female.is_empty() || list.family.is_empty() {
        bail!("pk_names.csv lacks male, female or family names");
    }
    Ok(list)
}

/// `'it''s'`.
pub fn sql_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn sql_array(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| sql_quote(s)).collect();
    format!("ARRAY[{}]::text[]", quoted.join(","))
}

/// A temporary table `bench_names (kind, i, sp)` of the list (0-based `i`
/// per kind, `sp` the spellings), dropped at commit.
pub fn names_table_sql(list: &NameList) -> String {
    let mut rows = Vec::new();
    for (kind, names) in [
        ("male", &list.male),
        ("female", &list.female),
        ("family", &list.family),
    ] {
        for (i, sp) in names.iter().enumerate() {
            rows.push(format!("('{kind}', {i}, {})", sql_array(sp)));
        }
    }
    format!(
        "CREATE TEMP TABLE bench_names (kind text, i int, sp text[], PRIMARY KEY (kind, i)) \
         ON COMMIT DROP;\nINSERT INTO bench_names VALUES\n{};\n",
        rows.join(",\n")
    )
}

/// A pseudo-random non-negative bigint of the columns `{at}n`, `{at}p`
/// (bigint) and the salt `s`: the same on every load.
fn hash_sql(at: &str, s: u32) -> String {
    format!("(hashint8extended({at}n * 1000003 + {at}p, {s}) & 9223372036854775807)")
}

/// An index into a list of `len` names, common names (those listed first)
/// more often: the first of 74 comes up about 6 % of the time, the last 0.5 %.
fn skewed_sql(s: u32, len: usize) -> String {
    format!(
        "least(floor({len} * power(({h} % 1000000) / 1000000.0, 1.5))::int, {last})",
        h = hash_sql("", s),
        last = len - 1
    )
}

/// One spelling of the `bench_names` row `alias`: a variant `pct` % of the
/// time (in the outer query, over `x.n` and `x.p`).
fn spelling_sql(alias: &str, s: u32, pct: u32) -> String {
    let h = hash_sql("x.", s);
    format!(
        "{alias}.sp[1 + CASE WHEN {h} % 100 < {pct} THEN ({h} / 100) % cardinality({alias}.sp) \
         ELSE 0 END]"
    )
}

/// `SELECT n, p, sex, full_name, relative, date_of_birth` for the patients
/// `p` of bench clinic `n` produced by `source` (a query with bigint columns
/// `n` and `p`), using the table of [`names_table_sql`]. The sex depends on p
/// alone, as it always did.
pub fn names_select_sql(list: &NameList, source: &str) -> String {
    let (nm, nf, nfam) = (list.male.len(), list.female.len(), list.family.len());
    format!(
        "SELECT x.n, x.p, x.sex,
       concat_ws(' ',
                 CASE WHEN x.sex <> 'female' AND x.gi <> 0 AND {prefix_h} % 100 < {MUHAMMAD_PREFIX_PERCENT}
                      THEN {mu} END,
                 {given}, {family}) AS full_name,
       {relative} || ' ' || CASE WHEN x.sex = 'female' AND {married_h} % 100 < 40
                                 THEN {other_family} ELSE {family} END AS relative,
       CASE WHEN x.p % 20 = 0 THEN NULL
            ELSE date '1940-01-01' + ((x.n * 7919 + x.p * 104729) % 30000)::int END AS date_of_birth
  FROM (SELECT n, p,
               CASE WHEN p % 97 = 0 THEN 'other' WHEN p % 2 = 0 THEN 'female' ELSE 'male' END AS sex,
               CASE WHEN p % 2 = 0 AND p % 97 <> 0 THEN {female_i} ELSE {male_i} END AS gi,
               {family_i} AS fi, {relative_i} AS ri, {other_i} AS oi
          FROM ({source}) AS src) AS x
  JOIN bench_names g ON g.kind = CASE x.sex WHEN 'female' THEN 'female' ELSE 'male' END AND g.i = x.gi
  JOIN bench_names f ON f.kind = 'family' AND f.i = x.fi
  JOIN bench_names r ON r.kind = 'male' AND r.i = x.ri
  JOIN bench_names o ON o.kind = 'family' AND o.i = x.oi
  JOIN bench_names mu ON mu.kind = 'male' AND mu.i = 0",
        prefix_h = hash_sql("x.", 1),
        married_h = hash_sql("x.", 2),
        mu = spelling_sql("mu", 3, GIVEN_VARIANT_PERCENT),
        given = spelling_sql("g", 4, GIVEN_VARIANT_PERCENT),
        family = spelling_sql("f", 5, FAMILY_VARIANT_PERCENT),
        relative = spelling_sql("r", 6, GIVEN_VARIANT_PERCENT),
        other_family = spelling_sql("o", 7, FAMILY_VARIANT_PERCENT),
        female_i = skewed_sql(8, nf),
        male_i = skewed_sql(9, nm),
        family_i = skewed_sql(10, nfam),
        relative_i = skewed_sql(11, nm),
        other_i = skewed_sql(12, nfam),
    )
}

/// How a searched name is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typed {
    /// Another spelling of one of its names: "mohamad ali khan".
    Variant,
    /// The start of it: "m. ali" for Muhammad Ali …, "ayesha kh" otherwise.
    Partial,
    /// A letter left out of its longest word: "ayesha sidiqui".
    Typo,
}

impl Typed {
    pub const ALL: [Typed; 3] = [Typed::Variant, Typed::Partial, Typed::Typo];

    pub fn label(self) -> &'static str {
        match self {
            Typed::Variant => "variant",
            Typed::Partial => "partial",
            Typed::Typo => "typo",
        }
    }
}

/// What the front desk types, lowercase, to find the patient called
/// `full_name`, and how it was made (a requested kind that does not apply to
/// this name falls back to another).
pub fn typed_name(list: &NameList, full_name: &str, want: Typed) -> (String, Typed) {
    let words: Vec<String> = full_name
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    let muhammad = list.male.first().map(|sp| sp[0].to_lowercase());
    let variant = || {
        words.iter().enumerate().find_map(|(i, w)| {
            let sp = list.spellings_of(w)?;
            let at = sp.iter().position(|s| s == w)?;
            // The next spelling, avoiding initials and abbreviations.
            let other = (1..sp.len())
                .map(|k| &sp[(at + k) % sp.len()])
                .find(|s| s.len() > 2 && !s.contains('.'))?;
            let mut out = words.clone();
            out[i].clone_from(other);
            Some(out.join(" "))
        })
    };
    let typo = || {
        let (i, w) = words
            .iter()
            .enumerate()
            .filter(|(_, w)| w.chars().count() >= 5 && w.chars().all(char::is_alphabetic))
            .max_by_key(|(i, w)| (w.chars().count(), std::cmp::Reverse(*i)))?;
        let chars: Vec<char> = w.chars().collect();
        let drop = chars.len() / 2;
        let mut out = words.clone();
        out[i] = chars
            .iter()
            .enumerate()
            .filter(|(k, _)| *k != drop)
            .map(|(_, c)| c)
            .collect();
        Some(out.join(" "))
    };
    let partial = || {
        let first = words.first()?;
        let second = words.get(1)?;
        let is_muhammad = muhammad.as_ref().is_some_and(|m| {
            list.spellings_of(first)
                .is_some_and(|sp| sp.first() == Some(m))
        });
        if is_muhammad && words.len() >= 3 {
            Some(format!("m. {second}"))
        } else if !is_muhammad && second.chars().count() >= 3 {
            Some(format!(
                "{first} {}",
                second.chars().take(2).collect::<String>()
            ))
        } else {
            None
        }
    };
    let order: [Typed; 3] = match want {
        Typed::Variant => [Typed::Variant, Typed::Typo, Typed::Partial],
        Typed::Partial => [Typed::Partial, Typed::Variant, Typed::Typo],
        Typed::Typo => [Typed::Typo, Typed::Variant, Typed::Partial],
    };
    for kind in order {
        let made = match kind {
            Typed::Variant => variant(),
            Typed::Partial => partial(),
            Typed::Typo => typo(),
        };
        if let Some(text) = made {
            return (text, kind);
        }
    }
    (words.join(" "), Typed::Variant)
}

/// `application/x-www-form-urlencoded` value.
pub fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> NameList {
        parse_names(
            "kind,name,variants\n\
             male_given,Muhammad,Mohammad|Muhammed|Mohd|Md\n\
             male_given,Ali,Aly\n\
             male_given,Usman,\n\
             male_given,Raza,Rida|Reza\n\
             female_given,Ayesha,Aisha|Aysha\n\
             female_given,Rida,Ridda\n\
             family,Khan,\n\
             family,Siddiqui,Siddiqi|Sidiqui\n\
             family,Chaudhry,Chaudhary|Ch.\n",
        )
        .unwrap()
    }

    #[test]
    fn parses_the_list() {
        let l = list();
        assert_eq!(l.male.len(), 4);
        assert_eq!(l.male[0][0], "Muhammad");
        assert_eq!(l.male[2], ["Usman"]);
        assert_eq!(l.family[2], ["Chaudhry", "Chaudhary", "Ch."]);
        assert!(parse_names("kind,name,variants\nnick,X,\n").is_err());
        let real = NameList::load().unwrap();
        assert_eq!(real.male[0][0], "Muhammad");
        assert!(real.family.len() >= 50 && real.female.len() >= 40);
    }

    #[test]
    fn typed_names() {
        let l = list();
        let t = |name: &str, want| typed_name(&l, name, want);
        assert_eq!(
            t("Muhammad Ali Khan", Typed::Variant),
            ("mohammad ali khan".into(), Typed::Variant)
        );
        // Initials are skipped as variants.
        assert_eq!(
            t("Mohd Usman Khan", Typed::Variant),
            ("muhammad usman khan".into(), Typed::Variant)
        );
        assert_eq!(
            t("Md Ali Siddiqui", Typed::Partial),
            ("m. ali".into(), Typed::Partial)
        );
        assert_eq!(
            t("Ayesha Siddiqui", Typed::Partial),
            ("ayesha si".into(), Typed::Partial)
        );
        assert_eq!(
            t("Ayesha Siddiqui", Typed::Typo),
            ("ayesha siddqui".into(), Typed::Typo)
        );
        // No word of five letters: another kind.
        assert_eq!(
            t("Aly Khan", Typed::Typo),
            ("ali khan".into(), Typed::Variant)
        );
        // Rida is a name of its own, not Raza spelt otherwise.
        assert_eq!(
            t("Rida Khan", Typed::Variant),
            ("ridda khan".into(), Typed::Variant)
        );
        assert_eq!(
            t("Reza Khan", Typed::Variant),
            ("raza khan".into(), Typed::Variant)
        );
        // "Usman Khan": no variant; a typo instead.
        assert_eq!(
            t("Usman Khan", Typed::Variant),
            ("usan khan".into(), Typed::Typo)
        );
    }

    #[test]
    fn sql_pieces() {
        assert_eq!(sql_quote("Sa'ad"), "'Sa''ad'");
        let table = names_table_sql(&list());
        assert!(table
            .contains("('male', 0, ARRAY['Muhammad','Mohammad','Muhammed','Mohd','Md']::text[])"));
        assert!(table.contains("('family', 2, ARRAY['Chaudhry','Chaudhary','Ch.']::text[])"));
        let select = names_select_sql(&list(), "SELECT 1::bigint AS n, 2::bigint AS p");
        assert!(select.contains("hashint8extended(x.n * 1000003 + x.p, 4)"));
        assert!(select.contains("hashint8extended(n * 1000003 + p, 9)"));
        assert!(!select.contains("{"));
    }

    #[test]
    fn form_values() {
        assert_eq!(form_encode("m. ali"), "m.+ali");
        assert_eq!(form_encode("sa'ad & co"), "sa%27ad+%26+co");
    }
}
