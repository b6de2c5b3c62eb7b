//! Parse and resolve speed against baselines in the same run (docs/guide.md #zero-copy).
//!
//! Cases, each in its own group with every implementation:
//! - `small_values`: 10,000 values of 20–200 bytes with 0–3 placeholders;
//! - `file_1mib`: a 1 MiB file with a placeholder every ~500 bytes;
//! - `no_placeholder_1mib`: 1 MiB with no placeholder.
//!
//! - `short_values`: 10,000 values of 20–80 bytes with 0–3 placeholders.
//!
//! Implementations: `memchr` (a `memmem` scan for `${`: the physical limit),
//! `hand` (an expander written by hand for this one syntax: `memchr` for
//! `$`, `{`, `}`, a `HashMap` lookup, a copy; what a team would write
//! instead of a library),
//! `regex` (`replace_all` of `\$\{([^}]*)\}` with a `HashMap` lookup),
//! `shellexpand` (`env_with_context`), `valueset_parse` (parse only) and
//! `valueset` (parse and resolve). Every implementation's output is checked
//! against valueset's before timing, and its length inside the loop.
//!
//! Run: `cargo bench --bench placeholders`; figures are in BENCHMARKS.md.

use std::borrow::Cow;
use std::collections::HashMap;
use std::convert::Infallible;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use memchr::memmem;
use regex::Regex;
use valueset::Template;
use valueset::resolve::{ResolveBuffer, Resolver};

#[path = "common/placeholder_inputs.rs"]
mod inputs;
use inputs::{Rng, file, short_values, small_values, values};

struct Impls {
    map: HashMap<String, String>,
    regex: Regex,
}

impl Impls {
    fn memchr(text: &str) -> usize {
        memmem::find_iter(text.as_bytes(), b"${").count()
    }

    fn hand<'t>(&self, text: &'t str) -> Cow<'t, str> {
        inputs::hand(&self.map, text)
    }

    fn regex<'t>(&self, text: &'t str) -> Cow<'t, str> {
        self.regex.replace_all(text, |caps: &regex::Captures<'_>| {
            let name = &caps[1];
            name.strip_prefix("values.")
                .and_then(|k| self.map.get(k))
                .cloned()
                .unwrap_or_default()
        })
    }

    fn shellexpand<'t>(&self, text: &'t str) -> Cow<'t, str> {
        shellexpand::env_with_context(text, |name: &str| {
            Ok::<_, Infallible>(name.strip_prefix("values.").and_then(|k| self.map.get(k)))
        })
        .expect("infallible")
    }

    fn valueset<'t>(&self, text: &'t str) -> Cow<'t, str> {
        Resolver::new(&self.map)
            .resolve_str(text)
            .expect("resolves")
            .into_plain()
            .expect("plain")
    }
}

fn bench(c: &mut Criterion) {
    let mut rng = Rng(0x5EED_C0FF_EE00_0001);
    let impls = Impls {
        map: values(&mut rng),
        regex: Regex::new(r"\$\{([^}]*)\}").expect("valid regex"),
    };

    let small = small_values(&mut rng);
    let file_with = file(&mut rng, true);
    let file_without = file(&mut rng, false);
    let short = short_values(&mut rng);

    // Every implementation gives the same output.
    for text in small
        .iter()
        .chain(&short)
        .chain([&file_with, &file_without])
    {
        let expected = impls.valueset(text);
        assert_eq!(impls.hand(text), expected);
        assert_eq!(impls.regex(text), expected);
        assert_eq!(impls.shellexpand(text), expected);
    }

    bench_small(c, &impls, "small_values", &small);
    bench_small(c, &impls, "short_values", &short);
    bench_file(c, &impls, "file_1mib", &file_with);
    bench_file(c, &impls, "no_placeholder_1mib", &file_without);
}

/// Cases (a) and (d): many short values, one call each.
fn bench_small(c: &mut Criterion, impls: &Impls, group: &str, small: &[String]) {
    let resolver = Resolver::new(&impls.map);
    let small_bytes: usize = small.iter().map(String::len).sum();
    let small_out: usize = small.iter().map(|t| impls.valueset(t).len()).sum();
    let small_hits: usize = small.iter().map(|t| Impls::memchr(t)).sum();
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Bytes(small_bytes as u64));
    g.bench_function("memchr", |b| {
        b.iter(|| {
            let n: usize = small.iter().map(|t| Impls::memchr(black_box(t))).sum();
            assert_eq!(n, small_hits);
        });
    });
    g.bench_function("hand", |b| {
        b.iter(|| {
            let n: usize = small.iter().map(|t| impls.hand(black_box(t)).len()).sum();
            assert_eq!(n, small_out);
        });
    });
    g.bench_function("regex", |b| {
        b.iter(|| {
            let n: usize = small.iter().map(|t| impls.regex(black_box(t)).len()).sum();
            assert_eq!(n, small_out);
        });
    });
    g.bench_function("shellexpand", |b| {
        b.iter(|| {
            let n: usize = small
                .iter()
                .map(|t| impls.shellexpand(black_box(t)).len())
                .sum();
            assert_eq!(n, small_out);
        });
    });
    g.bench_function("valueset_parse", |b| {
        b.iter(|| {
            let n: usize = small
                .iter()
                .map(|t| {
                    Template::parse(black_box(t))
                        .expect("parses")
                        .segments()
                        .len()
                })
                .sum();
            assert!(n >= small_hits);
        });
    });
    g.bench_function("valueset", |b| {
        b.iter(|| {
            let n: usize = small
                .iter()
                .map(|t| {
                    resolver
                        .resolve_str(black_box(t))
                        .expect("resolves")
                        .as_plain()
                        .map_or(0, str::len)
                })
                .sum();
            assert_eq!(n, small_out);
        });
    });
    g.bench_function("valueset_into", |b| {
        let mut out = ResolveBuffer::new();
        b.iter(|| {
            let n: usize = small
                .iter()
                .map(|t| {
                    resolver
                        .resolve_into(black_box(t), &mut out)
                        .expect("resolves");
                    out.as_plain().map_or(0, str::len)
                })
                .sum();
            assert_eq!(n, small_out);
        });
    });
    g.finish();
}

/// Cases (b) and (c): one large text.
fn bench_file(c: &mut Criterion, impls: &Impls, name: &str, text: &str) {
    let resolver = Resolver::new(&impls.map);
    let out_len = impls.valueset(text).len();
    let hits = Impls::memchr(text);
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("memchr", |b| {
        b.iter(|| assert_eq!(Impls::memchr(black_box(text)), hits));
    });
    g.bench_function("hand", |b| {
        b.iter(|| assert_eq!(impls.hand(black_box(text)).len(), out_len));
    });
    g.bench_function("regex", |b| {
        b.iter(|| assert_eq!(impls.regex(black_box(text)).len(), out_len));
    });
    g.bench_function("shellexpand", |b| {
        b.iter(|| assert_eq!(impls.shellexpand(black_box(text)).len(), out_len));
    });
    g.bench_function("valueset_parse", |b| {
        b.iter(|| {
            let t = Template::parse(black_box(text)).expect("parses");
            assert_eq!(t.placeholders().count(), hits);
        });
    });
    g.bench_function("valueset", |b| {
        b.iter(|| {
            let out = resolver.resolve_str(black_box(text)).expect("resolves");
            assert_eq!(out.as_plain().map_or(0, str::len), out_len);
        });
    });
    g.bench_function("valueset_into", |b| {
        let mut out = ResolveBuffer::new();
        b.iter(|| {
            resolver
                .resolve_into(black_box(text), &mut out)
                .expect("resolves");
            assert_eq!(out.as_plain().map_or(0, str::len), out_len);
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
