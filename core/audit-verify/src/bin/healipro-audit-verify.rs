//! `healipro-audit-verify --public-key <hex | file> <export.jsonl>`: checks a
//! Healipro audit export with only the public key. No database, no network.
//! Exit 0: verified; 1: the file fails (the line and why are printed); 2: usage.

use std::process::ExitCode;

const USAGE: &str = "usage: healipro-audit-verify --public-key <64 hex characters | file holding them> <export.jsonl>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut key, mut file) = (None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--public-key" => key = it.next().cloned(),
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other if file.is_none() && !other.starts_with('-') => file = Some(other.to_owned()),
            other => {
                eprintln!("unexpected argument `{other}`\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let (Some(key), Some(file)) = (key, file) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    // A key given as a path is read from the file.
    let public = match std::fs::read_to_string(&key) {
        Ok(text) => text.trim().to_owned(),
        Err(_) => key,
    };
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {file}: {e}");
            return ExitCode::from(2);
        }
    };
    match healipro_audit_verify::export::verify_export(&text, &public) {
        Ok(s) => {
            println!(
                "OK: clinic {} ({}), entries {}..={} ({} entries), {} signed checkpoint(s), signed by key {}",
                s.clinic_code, s.tenant_id, s.first_seq, s.last_seq, s.entries, s.checkpoints, s.key_id
            );
            ExitCode::SUCCESS
        }
        Err(p) => {
            println!("FAILED at {p}");
            ExitCode::from(1)
        }
    }
}
