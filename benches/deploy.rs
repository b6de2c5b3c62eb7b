//! The path a deployment takes, on sled, against the least any store must
//! do, in the same run:
//!
//! - `valueset_latest` / `valueset_recent` / `valueset_old`:
//!   `Store::snapshot` of an Environment at its latest version, at the
//!   version ten changes back (a rollback), or at one from early in its
//!   history, then `resolve_workload` of 50 variables using 100
//!   placeholders, 10 of them secrets;
//! - `raw`: a sled range scan of the 1,000 values, 50 XChaCha20-Poly1305
//!   opens, and the same substitution by hand (find `${`, look the path up,
//!   copy).
//!
//! The data (`common/deploy_fixture.rs`): an App of 1,000 keys (50
//! secrets), an Environment that overrides 200 of them, and 10,000 versions
//! of history (one-key changes after the initial sets), read through a
//! store opened anew after it was written, as a service reads one (in the
//! process that wrote it, sled's cache still holds the writes' fragments).
//! The same data on PostgreSQL is in `shared.rs`.
//!
//! Run: `cargo bench --bench deploy`; figures are in BENCHMARKS.md.

use std::hint::black_box;

use chacha20poly1305::XChaCha20Poly1305;
use criterion::{Criterion, criterion_group, criterion_main};
use valueset::model::VersionSelector;
use valueset::resolve::Workload;
use valueset::{MasterKey, Store};

#[path = "common/temp_dir.rs"]
mod temp_dir;
use temp_dir::Dir;

#[path = "common/deploy_fixture.rs"]
mod deploy_fixture;

/// The baseline's data: the same 1,000 values in raw sled, the 50 secrets
/// sealed.
struct Raw {
    _dir: Dir,
    db: sled::Db,
    cipher: XChaCha20Poly1305,
}

fn raw() -> Raw {
    let dir = Dir::new("deploy-raw");
    let db = sled::open(&dir.0).expect("sled");
    let cipher = deploy_fixture::raw_cipher();
    for (k, v) in deploy_fixture::raw_rows(&cipher) {
        db.insert(k, v).expect("insert");
    }
    db.flush().expect("flush");
    Raw {
        _dir: dir,
        db,
        cipher,
    }
}

impl Raw {
    /// Scan, open the secrets, substitute: the output's total length.
    fn deploy(&self, workload: &Workload) -> usize {
        let rows = self.db.iter().map(|item| item.expect("scan"));
        deploy_fixture::raw_deploy(rows, &self.cipher, workload)
    }
}

fn open(dir: &Dir) -> Store {
    Store::builder()
        .master_key(MasterKey::from_bytes([9; 32]))
        .open(&dir.0)
        .expect("open")
}

fn bench(c: &mut Criterion) {
    let dir = Dir::new("deploy");
    let mut fixture = deploy_fixture::build(open(&dir));
    // The writing store lets go of the directory before it is opened again.
    drop(std::mem::replace(&mut fixture.store, Store::in_memory()));
    fixture.store = open(&dir);
    let raw = raw();
    let raw_len = raw.deploy(&fixture.workload);
    assert!(raw_len > 0 && fixture.deploy(VersionSelector::Latest) > 0);

    let mut g = c.benchmark_group("deploy");
    g.bench_function("raw", |b| {
        b.iter(|| black_box(raw.deploy(&fixture.workload)));
    });
    g.bench_function("valueset_latest", |b| {
        b.iter(|| black_box(fixture.deploy(VersionSelector::Latest)));
    });
    g.bench_function("valueset_recent", |b| {
        b.iter(|| black_box(fixture.deploy(VersionSelector::Id(fixture.recent))));
    });
    g.bench_function("valueset_old", |b| {
        b.iter(|| black_box(fixture.deploy(VersionSelector::Id(fixture.old))));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
