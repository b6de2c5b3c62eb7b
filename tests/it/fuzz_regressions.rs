//! Replays the fuzz targets' seed corpus and every saved crash artifact
//! through the same checks the targets run (`fuzz_checks`), so a fixed crash
//! stays fixed without a fuzzer.

use std::path::Path;

#[path = "fuzz_checks.rs"]
mod fuzz_checks;

fn replay(dir: &str, check: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    let mut count = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_file() {
            check(&std::fs::read(&path).unwrap());
            count += 1;
        }
    }
    count
}

#[test]
fn template_parse_corpus_and_artifacts() {
    let seeds = replay("fuzz/corpus/template_parse", fuzz_checks::check_parse);
    replay("fuzz/artifacts/template_parse", fuzz_checks::check_parse);
    assert!(seeds >= 5, "the seed corpus is there");
}

#[test]
fn resolve_corpus_and_artifacts() {
    let seeds = replay("fuzz/corpus/resolve", fuzz_checks::check_resolve);
    replay("fuzz/artifacts/resolve", fuzz_checks::check_resolve);
    assert!(seeds >= 5, "the seed corpus is there");
}

#[test]
fn import_corpus_and_artifacts() {
    let seeds = replay("fuzz/corpus/import", fuzz_checks::check_import);
    replay("fuzz/artifacts/import", fuzz_checks::check_import);
    assert!(seeds >= 2, "the seed corpus is there");
}

/// The import seeds are real exports: one imports whole, and a one-byte
/// change anywhere in its data is refused with nothing imported.
#[test]
fn import_seeds_import_and_damaged_ones_do_not() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/import");
    let sealed = std::fs::read_to_string(dir.join("seed_sealed.json")).unwrap();
    let doc: valueset::store::ExportDocument = serde_json::from_str(&sealed).unwrap();
    let store = valueset::Store::builder()
        .master_key(valueset::MasterKey::from_bytes([1; 32]))
        .in_memory()
        .unwrap();
    let admin = valueset::Actor::admin("t");
    let key = valueset::MasterKey::from_bytes(fuzz_checks::IMPORT_KEY);
    store.import_app(&admin, &doc, Some(&key)).unwrap();
    let damaged = sealed.replacen("db.prod", "db.prue", 1);
    assert_ne!(damaged, sealed);
    let doc: valueset::store::ExportDocument = serde_json::from_str(&damaged).unwrap();
    let fresh = valueset::Store::builder()
        .master_key(valueset::MasterKey::from_bytes([1; 32]))
        .in_memory()
        .unwrap();
    let err = fresh.import_app(&admin, &doc, Some(&key)).unwrap_err();
    assert_eq!(err.code(), "invalid_export");
    fuzz_checks::check_import(damaged.as_bytes());
}

#[test]
fn checks_catch_known_inputs() {
    fuzz_checks::check_parse(b"${a} $\\{ ${['x']} ${");
    fuzz_checks::check_resolve(b"${values.S}${values.A}");
    fuzz_checks::check_resolve(b"${values.A}/${values.a.b}/${echo.x.y}/${context.app.id}");
    fuzz_checks::check_resolve(b"${echo.secret.z}");
    // Template values: nested, shared, tainted, in a cycle, naming the input.
    fuzz_checks::check_resolve(b"${values.TT}:${values.T}");
    fuzz_checks::check_resolve(b"${values.TS}");
    fuzz_checks::check_resolve(b"${values.C1}");
    fuzz_checks::check_resolve(b"${values.SELF}");
}

use crate::reference;

fn history_ops(data: &[u8]) {
    let mut harness = reference::Harness::new();
    for op in reference::ops_from_bytes(data).iter().take(40) {
        harness.step(op);
    }
}

#[test]
fn history_ops_corpus_and_artifacts() {
    let seeds = replay("fuzz/corpus/history_ops", history_ops);
    replay("fuzz/artifacts/history_ops", history_ops);
    assert!(seeds >= 5, "the seed corpus is there");
}
