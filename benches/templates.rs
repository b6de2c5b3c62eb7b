//! Values that use values (docs/guide.md #values-that-use-values): the cost
//! of resolving a workload whose values are templates nested three deep,
//! against the same workload over the same values written out, in the same
//! run.
//!
//! The workload has 50 variables using 100 placeholders, each naming its
//! own value. With templates, each of those 100 values is a level-1
//! template that names a level-2 template and a plain value; a level-2 template
//! names a level-3 template and a plain value; a level-3 template names two
//! plain values. Written out, every template key holds the text its
//! template resolves to, so both give the same output (checked before
//! timing). Two shapes, each its own group:
//!
//! - `templates_3_deep`: 10 level-2 and 3 level-3 templates, shared by the
//!   level above, as configuration is built (`DATABASE_URL` from `DB_HOST`
//!   from `REGION`);
//! - `templates_3_deep_distinct`: 100 of each, so every placeholder pays
//!   for a chain of three templates of its own (the worst case: 300
//!   templates resolved for 100 placeholders).
//!
//! Run: `cargo bench --bench templates`; figures are in BENCHMARKS.md.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use valueset::Key;
use valueset::resolve::{MapValues, ResolvedWorkload, Resolver, Workload};

const LEAVES: usize = 200;
const TOP: usize = 100;
const VARIABLES: usize = 50;

fn key(k: &str) -> Key {
    Key::new(k).expect("valid key")
}

/// How many templates levels 2 and 3 have.
#[derive(Clone, Copy)]
struct Shape {
    level2: usize,
    level3: usize,
}

/// The text of template `i` of `level`.
fn template(shape: Shape, level: usize, i: usize) -> String {
    let (below, leaf) = match level {
        1 => (format!("L2_{}", i % shape.level2), i),
        2 => (format!("L3_{}", i % shape.level3), i + TOP),
        _ => (format!("LEAF_{}", (i * 7) % LEAVES), i + 1),
    };
    format!(
        "{level}:${{values.{below}}}/${{values.LEAF_{}}}",
        leaf % LEAVES
    )
}

/// The values with templates, and the same keys written out.
fn values(shape: Shape) -> (MapValues, MapValues) {
    let mut templates = MapValues::new();
    let mut written = MapValues::new();
    for i in 0..LEAVES {
        let text = format!("leaf-value-{i}-{}", "x".repeat(i % 17));
        templates.insert(key(&format!("LEAF_{i}")), text.clone());
        written.insert(key(&format!("LEAF_{i}")), text);
    }
    let counts = [TOP, shape.level2, shape.level3];
    for (level, count) in (1..=3).zip(counts) {
        for i in 0..count {
            templates.insert_template(key(&format!("L{level}_{i}")), template(shape, level, i));
        }
    }
    let resolver = Resolver::new(&templates);
    for (level, count) in (1..=3).zip(counts) {
        for i in 0..count {
            let k = format!("L{level}_{i}");
            let placeholder = format!("${{values.{k}}}");
            let out = resolver.resolve_str(&placeholder).expect("resolves");
            written.insert(key(&k), out.as_plain().expect("plain").to_owned());
        }
    }
    (templates, written)
}

fn workload() -> Workload {
    let mut w = Workload {
        id: "api".into(),
        ..Workload::default()
    };
    for v in 0..VARIABLES {
        w.variables.insert(
            format!("VAR_{v}"),
            format!(
                "url=${{values.L1_{}}}&other=${{values.L1_{}}}",
                2 * v,
                2 * v + 1
            ),
        );
    }
    w
}

fn texts(w: &ResolvedWorkload<'_>) -> Vec<String> {
    w.variables
        .values()
        .map(|r| r.as_plain().expect("plain").to_owned())
        .collect()
}

fn bench_shape(c: &mut Criterion, name: &str, shape: Shape) {
    let (templates, written) = values(shape);
    let workload = workload();
    let with_templates = Resolver::new(&templates);
    let written_out = Resolver::new(&written);
    let expected = written_out.resolve_workload(&workload).expect("resolves");
    let got = with_templates
        .resolve_workload(&workload)
        .expect("resolves");
    assert_eq!(texts(&got), texts(&expected));

    let mut g = c.benchmark_group(name);
    g.bench_function("written_out", |b| {
        b.iter(|| {
            let r = written_out
                .resolve_workload(black_box(&workload))
                .expect("resolves");
            assert_eq!(r.variables.len(), VARIABLES);
        });
    });
    g.bench_function("templates", |b| {
        b.iter(|| {
            let r = with_templates
                .resolve_workload(black_box(&workload))
                .expect("resolves");
            assert_eq!(r.variables.len(), VARIABLES);
        });
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    let shared = Shape {
        level2: 10,
        level3: 3,
    };
    bench_shape(c, "templates_3_deep", shared);
    let distinct = Shape {
        level2: TOP,
        level3: TOP,
    };
    bench_shape(c, "templates_3_deep_distinct", distinct);
}

criterion_group!(benches, bench);
criterion_main!(benches);
