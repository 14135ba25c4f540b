//! The ABI's promises that drift silently if nobody checks: header freshness is checked by
//! scripts/gen-header.sh --verify; here, the codes in the header and README against the
//! Rust enum, and the version macros against Cargo.toml.

use std::ffi::CStr;

use oidc::ffi::misc::{oidc_result_name, oidc_version, oidc_version_number};
use oidc::ffi::oidc_result;

fn read(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

fn name(c: oidc_result) -> String {
    c.name().to_str().unwrap().to_string()
}

#[test]
fn header_codes_match_the_rust_enum() {
    let h = read("include/oidc.h");
    let mut in_header = Vec::new();
    for line in h.lines() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("OIDC_RESULT_") {
            let (n, v) = rest.trim_end_matches(',').split_once(" = ").unwrap();
            in_header.push((n.to_string(), v.parse::<u32>().unwrap()));
        }
    }
    let in_rust: Vec<(String, u32)> = oidc_result::ALL.iter().map(|c| (name(*c), *c as u32)).collect();
    assert_eq!(in_header, in_rust);
    for c in oidc_result::ALL {
        let p = oidc_result_name(c as u32);
        assert_eq!(unsafe { CStr::from_ptr(p) }.to_str().unwrap(), name(c));
    }
}

#[test]
fn readme_code_table_matches() {
    let readme = read("README.md");
    // The table of the "Result codes" section (other tables have numeric first columns too).
    let rows: Vec<(u32, String)> = readme
        .lines()
        .skip_while(|l| !l.starts_with("## Result codes"))
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            if cells.len() < 4 {
                return None;
            }
            let code = cells[1].parse::<u32>().ok()?;
            Some((code, cells[2].trim_matches('`').to_string()))
        })
        .collect();
    let want: Vec<(u32, String)> = oidc_result::ALL.iter().map(|c| (*c as u32, name(*c))).collect();
    assert_eq!(rows, want, "README result-code table");
}

#[test]
fn version_macros_match_cargo_toml() {
    let h = read("include/oidc.h");
    let mac = |m: &str| -> u32 {
        let line = h.lines().find(|l| l.starts_with(&format!("#define {m} "))).unwrap();
        line.split_whitespace().nth(2).unwrap().parse().unwrap()
    };
    let (maj, min, pat) = (mac("OIDC_VERSION_MAJOR"), mac("OIDC_VERSION_MINOR"), mac("OIDC_VERSION_PATCH"));
    assert_eq!(maj.to_string(), env!("CARGO_PKG_VERSION_MAJOR"));
    assert_eq!(min.to_string(), env!("CARGO_PKG_VERSION_MINOR"));
    assert_eq!(pat.to_string(), env!("CARGO_PKG_VERSION_PATCH"));
    assert_eq!(oidc_version_number(), (maj << 16) | (min << 8) | pat);
    let v = unsafe { CStr::from_ptr(oidc_version()) }.to_str().unwrap();
    assert_eq!(v, env!("CARGO_PKG_VERSION"));
    // cbindgen.toml carries the same numbers (the header is generated from it).
    let cfg = read("cbindgen.toml");
    assert!(cfg.contains(&format!("#define OIDC_VERSION_MAJOR {maj}\n")));
}

/// Every function of include/oidc.h says who owns what, which threads may call it and whether
/// it blocks (the house rule for each exported function).
#[test]
fn every_header_function_has_its_ownership_thread_and_blocking_notes() {
    let h = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/oidc.h")).unwrap();
    let mut missing = Vec::new();
    let mut n = 0;
    for part in h.split("/**").skip(1) {
        let Some((doc, rest)) = part.split_once("*/") else { continue };
        let decl = rest.trim_start().split(';').next().unwrap_or("");
        if decl.contains('{') || !decl.contains('(') || decl.starts_with("typedef") {
            continue;
        }
        let Some(name) = decl.split('(').next().and_then(|d| d.split_whitespace().last()) else { continue };
        let name = name.trim_start_matches('*');
        if !name.starts_with("oidc_") {
            continue;
        }
        n += 1;
        for note in ["# Ownership", "# Thread safety", "# Blocking"] {
            if !doc.contains(note) {
                missing.push(format!("{name}: {note}"));
            }
        }
    }
    assert!(n > 100, "found only {n} functions");
    assert!(missing.is_empty(), "{missing:#?}");
}
