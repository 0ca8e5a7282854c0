//! Name normalisation for the typo- and transliteration-tolerant search.
//!
//! The same spelling is written many ways at a Pakistani front desk
//! ("Muhammad", "Mohammad", "Muhammed", "M."; "Syed", "Sayed"). Both the
//! stored names and what is typed into the search box are reduced to one
//! canonical form, then compared by trigram similarity (pg_trgm).
//!
//! The stored side is `clinic.patients.name_norm`, a generated column computed
//! by the SQL function `clinic.normalize_name` (migration 0011), so every row,
//! old or new, has it without the application writing it. This module is the
//! same function in Rust for the typed side; the two must agree, so the
//! migration's diacritics table and variant map are checked against
//! [`FOLD_FROM`], [`FOLD_TO`] and [`VARIANTS`] by the tests below, and
//! `core/tests/name_search.rs` compares both functions on every name and
//! variant of the names list.
//!
//! Steps (identical in SQL):
//! 1. fold the Latin letters with diacritics in [`FOLD_FROM`] to [`FOLD_TO`],
//!    and drop apostrophes ("Sa'ad" is "Saad");
//! 2. lowercase ASCII letters (only ASCII: PostgreSQL's `lower` under
//!    `COLLATE "C"` does the same, whatever the server's locale);
//! 3. every other ASCII character that is not a letter or digit becomes a
//!    space ("M." is "m", "Abd-ul" is "abd ul"); other characters (Urdu
//!    script) are kept;
//! 4. "abd" followed by "ul", "al", "ur", "ar" or "allah" as whole words
//!    joins it ("Abd ul Rehman" is "abdul rehman");
//! 5. each word in [`VARIANTS`] becomes its canonical spelling;
//! 6. the words are joined by single spaces.

/// Letters with diacritics and the ASCII letters they fold to (same position).
pub const FOLD_FROM: &str =
    "ÀÁÂÃÄÅàáâãäåĀāÇçĆćČčÈÉÊËèéêëĒēÌÍÎÏìíîïĪīÑñÒÓÔÕÖØòóôõöøŌōÙÚÛÜùúûüŪūÝýÿŠšŽž";
pub const FOLD_TO: &str =
    "AAAAAAaaaaaaAaCcCcCcEEEEeeeeEeIIIIiiiiIiNnOOOOOOooooooOoUUUUuuuuUuYyySsZz";
/// Apostrophes, dropped inside a word.
pub const APOSTROPHES: &str = "'`‘’ʼ";

/// What follows "abd" to make one word of it ("Abd ul", "Abd-ur", "Abd Allah").
const ABD_JOINS: &[&str] = &["ul", "al", "ur", "ar", "allah"];

/// Spelling variants (normalised words) and their canonical spelling, sorted
/// by variant. From `core/data/pk_names.csv` (a copy of `shared/data`), minus
/// the variants that are other people's names ("Rida" is not "Raza", "Shabnam"
/// is not "Shabana", "Saud" is not "Saad", "Obaidullah" is not "Obaid"), plus
/// the abbreviations and spellings seen on registers ("M.", "Md", "Mohd" for
/// Muhammad, "Ch." for Chaudhry, "Syd" for Syed, "Abdur" for Abdul).
pub const VARIANTS: &[(&str, &str)] = &[
    ("aamina", "amina"),
    ("aamna", "amna"),
    ("aasif", "asif"),
    ("abassi", "abbasi"),
    ("abdal", "abdul"),
    ("abdalla", "abdullah"),
    ("abdallah", "abdullah"),
    ("abdar", "abdul"),
    ("abdel", "abdul"),
    ("abdulla", "abdullah"),
    ("abdur", "abdul"),
    ("abdurrehman", "abdul rehman"),
    ("adnaan", "adnan"),
    ("afreedi", "afridi"),
    ("ahmad", "ahmed"),
    ("ahmet", "ahmed"),
    ("ahsan", "ehsan"),
    ("aisha", "ayesha"),
    ("aishah", "ayesha"),
    ("akhter", "akhtar"),
    ("akraam", "akram"),
    ("alavi", "alvi"),
    ("alishbah", "alishba"),
    ("aly", "ali"),
    ("aminah", "amina"),
    ("amjid", "amjad"),
    ("anam", "anum"),
    ("anssari", "ansari"),
    ("anwer", "anwar"),
    ("araeen", "arain"),
    ("ariba", "areeba"),
    ("arsalan", "arslan"),
    ("aslaam", "aslam"),
    ("asmaa", "asma"),
    ("awaan", "awan"),
    ("ayeshah", "ayesha"),
    ("aysha", "ayesha"),
    ("azher", "azhar"),
    ("babur", "babar"),
    ("baigh", "baig"),
    ("balouch", "baloch"),
    ("bangish", "bangash"),
    ("beebee", "bibi"),
    ("beg", "baig"),
    ("belal", "bilal"),
    ("bhati", "bhatti"),
    ("bhatt", "butt"),
    ("bloch", "baloch"),
    ("bokhari", "bukhari"),
    ("bushrah", "bushra"),
    ("ch", "chaudhry"),
    ("chaudhari", "chaudhry"),
    ("chaudhary", "chaudhry"),
    ("chaudhri", "chaudhry"),
    ("chima", "cheema"),
    ("choudhary", "chaudhry"),
    ("choudhry", "chaudhry"),
    ("chowdhury", "chaudhry"),
    ("daanish", "danish"),
    ("durani", "durrani"),
    ("ebrahim", "ibrahim"),
    ("esmail", "ismail"),
    ("fahd", "fahad"),
    ("faizal", "faisal"),
    ("farhaan", "farhan"),
    ("faruqi", "farooqi"),
    ("farzaana", "farzana"),
    ("fathima", "fatima"),
    ("fatimah", "fatima"),
    ("fatma", "fatima"),
    ("fawaad", "fawad"),
    ("faysal", "faisal"),
    ("gillani", "gilani"),
    ("gujar", "gujjar"),
    ("gulam", "ghulam"),
    ("gull", "gul"),
    ("haaris", "haris"),
    ("hafsah", "hafsa"),
    ("hamzah", "hamza"),
    ("haneef", "hanif"),
    ("hasan", "hassan"),
    ("hashimi", "hashmi"),
    ("heena", "hina"),
    ("hosain", "hussain"),
    ("hossain", "hussain"),
    ("husain", "hussain"),
    ("husaini", "hussaini"),
    ("husayn", "hussain"),
    ("husein", "hussain"),
    ("hussein", "hussain"),
    ("ibraheem", "ibrahim"),
    ("ihsan", "ehsan"),
    ("ikbal", "iqbal"),
    ("imraan", "imran"),
    ("iqraa", "iqra"),
    ("irfaan", "irfan"),
    ("ismael", "ismail"),
    ("jaffery", "jafri"),
    ("jafry", "jafri"),
    ("jamil", "jameel"),
    ("jat", "jatt"),
    ("javaid", "javed"),
    ("javeriya", "javeria"),
    ("jawed", "javed"),
    ("jilani", "gilani"),
    ("junayd", "junaid"),
    ("juwairia", "javeria"),
    ("kadir", "qadir"),
    ("kakkar", "kakar"),
    ("kamraan", "kamran"),
    ("kasim", "qasim"),
    ("kauser", "kausar"),
    ("kayani", "kiani"),
    ("kazimi", "kazmi"),
    ("khadeeja", "khadija"),
    ("khadijah", "khadija"),
    ("khaled", "khalid"),
    ("khatak", "khattak"),
    ("kiren", "kiran"),
    ("kosar", "kausar"),
    ("kyani", "kiani"),
    ("lateef", "latif"),
    ("liakat", "liaquat"),
    ("liaqat", "liaquat"),
    ("lodi", "lodhi"),
    ("m", "muhammad"),
    ("mahwish", "mehwish"),
    ("mansour", "mansoor"),
    ("mansur", "mansoor"),
    ("mariam", "maryam"),
    ("mariyam", "maryam"),
    ("marwatt", "marwat"),
    ("md", "muhammad"),
    ("mehnoor", "mahnoor"),
    ("menon", "memon"),
    ("miriam", "maryam"),
    ("mirzah", "mirza"),
    ("moghul", "mughal"),
    ("mogul", "mughal"),
    ("mohamad", "muhammad"),
    ("mohamed", "muhammad"),
    ("mohammad", "muhammad"),
    ("mohammed", "muhammad"),
    ("mohammod", "muhammad"),
    ("mohd", "muhammad"),
    ("mohmmad", "muhammad"),
    ("mohmmed", "muhammad"),
    ("mostafa", "mustafa"),
    ("muhamad", "muhammad"),
    ("muhamed", "muhammad"),
    ("muhammed", "muhammad"),
    ("muhammod", "muhammad"),
    ("muhd", "muhammad"),
    ("mustapha", "mustafa"),
    ("nadim", "nadeem"),
    ("nadiya", "nadia"),
    ("naim", "naeem"),
    ("naqavi", "naqvi"),
    ("naseer", "nasir"),
    ("nasim", "naseem"),
    ("nasrin", "nasreen"),
    ("nasser", "nasir"),
    ("navid", "naveed"),
    ("naweed", "naveed"),
    ("naziya", "nazia"),
    ("neazi", "niazi"),
    ("nigahat", "nighat"),
    ("nouman", "noman"),
    ("numan", "noman"),
    ("nur", "noor"),
    ("omar", "umar"),
    ("osman", "usman"),
    ("osmani", "usmani"),
    ("ozma", "uzma"),
    ("parvaiz", "pervez"),
    ("parvez", "pervez"),
    ("parvin", "parveen"),
    ("perveen", "parveen"),
    ("qaadir", "qadir"),
    ("qaasim", "qasim"),
    ("quraishi", "qureshi"),
    ("qureishi", "qureshi"),
    ("rabiah", "rabia"),
    ("rabiya", "rabia"),
    ("rahmaan", "rehman"),
    ("rahman", "rehman"),
    ("rajpoot", "rajput"),
    ("rasheed", "rashid"),
    ("rehmaan", "rehman"),
    ("reza", "raza"),
    ("ridda", "rida"),
    ("rizavi", "rizvi"),
    ("rizwaan", "rizwan"),
    ("rubina", "robina"),
    ("rukhsaana", "rukhsana"),
    ("saadia", "sadia"),
    ("sadiya", "sadia"),
    ("saimah", "saima"),
    ("saiyed", "syed"),
    ("sajjid", "sajid"),
    ("salim", "saleem"),
    ("sameena", "samina"),
    ("sanaa", "sana"),
    ("sayad", "syed"),
    ("sayed", "syed"),
    ("sayyed", "syed"),
    ("sayyid", "syed"),
    ("seyed", "syed"),
    ("shaheed", "shahid"),
    ("shaikh", "sheikh"),
    ("shair", "sher"),
    ("shakil", "shakeel"),
    ("shameem", "shamim"),
    ("shaykh", "sheikh"),
    ("shaziya", "shazia"),
    ("shoayb", "shoaib"),
    ("shuaib", "shoaib"),
    ("siddiqi", "siddiqui"),
    ("sidiqui", "siddiqui"),
    ("sidrah", "sidra"),
    ("sohayl", "sohail"),
    ("sughran", "sughra"),
    ("suhail", "sohail"),
    ("sultaan", "sultan"),
    ("sumayra", "sumaira"),
    ("sumera", "sumaira"),
    ("sumro", "soomro"),
    ("syd", "syed"),
    ("taahir", "tahir"),
    ("taahira", "tahira"),
    ("talhah", "talha"),
    ("tareq", "tariq"),
    ("tarik", "tariq"),
    ("tarin", "tareen"),
    ("tayaba", "tayyaba"),
    ("tayyiba", "tayyaba"),
    ("tirmazi", "tirmizi"),
    ("ubaid", "obaid"),
    ("uthman", "usman"),
    ("waajid", "wajid"),
    ("waqaas", "waqas"),
    ("waraich", "warraich"),
    ("wasim", "waseem"),
    ("yaseer", "yasir"),
    ("yasser", "yasir"),
    ("yousef", "yousaf"),
    ("yousuf", "yousaf"),
    ("yousufzai", "yousafzai"),
    ("yusuf", "yousaf"),
    ("yusufzai", "yousafzai"),
    ("zaahid", "zahid"),
    ("zahra", "zara"),
    ("zaynab", "zainab"),
    ("zehra", "zara"),
    ("zenab", "zainab"),
    ("zeshan", "zeeshan"),
    ("zishan", "zeeshan"),
    ("zobair", "zubair"),
    ("zubaidah", "zubaida"),
    ("zubayr", "zubair"),
];

fn fold(c: char) -> Option<char> {
    if APOSTROPHES.contains(c) {
        return None;
    }
    match FOLD_FROM.chars().position(|f| f == c) {
        Some(i) => FOLD_TO.chars().nth(i),
        None => Some(c),
    }
}

fn canonical(word: &str) -> &str {
    match VARIANTS.binary_search_by(|(v, _)| (*v).cmp(word)) {
        Ok(i) => VARIANTS[i].1,
        Err(_) => word,
    }
}

/// The canonical form of a name: "Mohammed  Ali" and "M. Ali" are both
/// "muhammad ali", "Sayed Hasan" is "syed hassan". Empty when nothing is
/// left (punctuation only).
pub fn normalize(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .filter_map(fold)
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii() && !(c.is_ascii_lowercase() || c.is_ascii_digit()) {
                ' '
            } else {
                c
            }
        })
        .collect();
    let words: Vec<&str> = cleaned.split(' ').filter(|w| !w.is_empty()).collect();
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let joined;
        let word = match words.get(i + 1) {
            Some(next) if words[i] == "abd" && ABD_JOINS.contains(next) => {
                i += 1;
                joined = format!("abd{next}");
                joined.as_str()
            }
            _ => words[i],
        };
        out.push(canonical(word).to_owned());
        i += 1;
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIGRATION: &str = include_str!("../../../migrations/0011_patient_name_search.sql");

    #[test]
    fn spelling_variants_meet() {
        let cases = [
            ("Muhammad Ali", "muhammad ali"),
            ("mohamad ali", "muhammad ali"),
            ("Mohammed  ALI", "muhammad ali"),
            ("M. Ali", "muhammad ali"),
            ("Md. Ali", "muhammad ali"),
            ("Mohd Aly", "muhammad ali"),
            ("Sayed Hasan", "syed hassan"),
            ("Syd. Hassan", "syed hassan"),
            ("Sayyid Hussein", "syed hussain"),
            ("Ahmad Husain", "ahmed hussain"),
            ("Fatimah Bibi", "fatima bibi"),
            ("Aisha Siddiqi", "ayesha siddiqui"),
            ("Abd-ul Rahman", "abdul rehman"),
            ("Abdur Rahman", "abdul rehman"),
            ("Abdurrehman", "abdul rehman"),
            ("Abd Allah Khan", "abdullah khan"),
            ("Ch. Aslam", "chaudhry aslam"),
            ("Sa'ad Qureishi", "saad qureshi"),
            ("Saʼad", "saad"),
            ("Fátima Bībī", "fatima bibi"),
            ("  ", ""),
            ("...", ""),
            ("O'Neil-Smith", "oneil smith"),
            ("علی Khan", "علی khan"),
            ("Patient 2", "patient 2"),
            // Different people stay different.
            ("Rida", "rida"),
            ("Shabnam", "shabnam"),
        ];
        for (raw, want) in cases {
            assert_eq!(normalize(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn every_listed_variant_meets_its_name() {
        let mut rdr = csv::Reader::from_reader(include_str!("../../data/pk_names.csv").as_bytes());
        let excluded = ["Rida", "Saud", "Shabnam", "Obaidullah"];
        for rec in rdr.records() {
            let rec = rec.unwrap();
            let name = &rec[1];
            for variant in rec[2].split('|').filter(|v| !v.is_empty()) {
                if excluded.contains(&variant) {
                    continue;
                }
                assert_eq!(normalize(variant), normalize(name), "{variant} / {name}");
            }
        }
    }

    #[test]
    fn variants_are_sorted_and_final() {
        for pair in VARIANTS.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{:?} before {:?}", pair[0], pair[1]);
        }
        for (variant, canon) in VARIANTS {
            assert_ne!(variant, canon);
            assert_eq!(normalize(variant), *canon, "{variant}");
            // A canonical word is never itself rewritten (one step suffices).
            for word in canon.split(' ') {
                assert_eq!(canonical(word), word, "{canon}");
            }
        }
        assert_eq!(
            FOLD_FROM.chars().count(),
            FOLD_TO.chars().count(),
            "every folded letter has its ASCII letter"
        );
    }

    /// The SQL function of migration 0011 uses the same tables.
    #[test]
    fn migration_uses_the_same_tables() {
        let start = MIGRATION.find("'{").expect("variant map in the migration") + 1;
        let end = MIGRATION[start..]
            .find("}'")
            .expect("end of the variant map")
            + start
            + 1;
        let map: std::collections::BTreeMap<String, String> =
            serde_json::from_str(&MIGRATION[start..end]).expect("variant map is JSON");
        let ours: std::collections::BTreeMap<String, String> = VARIANTS
            .iter()
            .map(|(v, c)| ((*v).to_owned(), (*c).to_owned()))
            .collect();
        assert_eq!(map, ours);
        let sql_apostrophes = APOSTROPHES.replace('\'', "''");
        assert!(
            MIGRATION.contains(&format!("'{FOLD_FROM}{sql_apostrophes}', '{FOLD_TO}'")),
            "the migration folds with FOLD_FROM + APOSTROPHES -> FOLD_TO"
        );
        let joins = ABD_JOINS.join("|");
        assert!(
            MIGRATION.contains(&format!("'(^| )abd ({joins})(?= |$)', '\\1abd\\2'")),
            "the migration joins abd with the same words"
        );
    }
}
