//! The header's request enums (`OIDC_OP_*`, `OIDC_PARAM_*`, `OIDC_FIELD_*`) against the core's
//! tables (`core::oauth::request`): every constant in include/oidc.h names a core value with
//! the same number, and every core value is in the header. Bindings mirror the header.

use oidc::core::oauth::{Field, Operation, Param};

fn header_constants(prefix: &str) -> Vec<(String, u32)> {
    let h = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/oidc.h")).unwrap();
    h.lines()
        .filter_map(|l| {
            let l = l.trim().trim_end_matches(',');
            let (name, value) = l.split_once(" = ")?;
            (name.starts_with(prefix) && !name.contains(' ')).then(|| (name.to_string(), value.trim().parse().unwrap()))
        })
        .collect()
}

fn check(prefix: &str, core: Vec<(&'static str, u32)>) {
    let header = header_constants(prefix);
    let mut core: Vec<(String, u32)> = core.into_iter().map(|(n, v)| (n.to_string(), v)).collect();
    core.sort();
    let mut header = header;
    header.sort();
    assert_eq!(header, core, "{prefix}*: include/oidc.h and core::oauth::request differ");
}

#[test]
fn header_enums_are_the_core_tables() {
    check("OIDC_OP_", Operation::ALL.iter().map(|o| (o.c_name(), *o as u32)).collect());
    check("OIDC_PARAM_", Param::ALL.iter().map(|o| (o.c_name(), *o as u32)).collect());
    check("OIDC_FIELD_", Field::ALL.iter().map(|o| (o.c_name(), *o as u32)).collect());
}
