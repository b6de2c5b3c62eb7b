//! The inputs of `benches/placeholders.rs`, generated the same on every
//! run, and its hand-written baseline; shared with
//! `examples/resolve_count.rs`, which counts the instructions of resolving
//! them.
#![allow(dead_code)] // each includer uses a part

use std::borrow::Cow;
use std::collections::HashMap;

use memchr::memmem;

/// A small deterministic generator (xorshift64*), so every run measures the
/// same data.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).expect("fits")
    }
}

pub(crate) const KEYS: usize = 100;

pub(crate) fn values(rng: &mut Rng) -> HashMap<String, String> {
    (0..KEYS)
        .map(|i| {
            let len = 10 + rng.below(21);
            (format!("KEY_{i}"), filler(rng, len))
        })
        .collect()
}

/// Config-like text without `$`.
pub(crate) fn filler(rng: &mut Rng, len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz      =:/._-0123456789\n";
    (0..len)
        .map(|_| char::from(ALPHABET[rng.below(ALPHABET.len())]))
        .collect()
}

pub(crate) fn placeholder(rng: &mut Rng) -> String {
    format!("${{values.KEY_{}}}", rng.below(KEYS))
}

/// 10,000 values of 20–200 bytes, each with 0–3 placeholders.
pub(crate) fn small_values(rng: &mut Rng) -> Vec<String> {
    sized_values(rng, 20, 200)
}

/// 10,000 values of 20–80 bytes, each with 0–3 placeholders (a quarter
/// without any): configuration as most of it is.
pub(crate) fn short_values(rng: &mut Rng) -> Vec<String> {
    sized_values(rng, 20, 80)
}

/// 10,000 values of `min` to `max` bytes, each with 0–3 placeholders
/// (the filler fills what the placeholders leave of the length).
fn sized_values(rng: &mut Rng, min: usize, max: usize) -> Vec<String> {
    (0..10_000)
        .map(|_| {
            let len = min + rng.below(max - min + 1);
            let count = rng.below(4);
            let mut text = String::with_capacity(len);
            let mut placeholders = (0..count).map(|_| placeholder(rng)).collect::<Vec<_>>();
            let room = len.saturating_sub(placeholders.iter().map(String::len).sum::<usize>());
            let pieces = count + 1;
            for i in 0..pieces {
                text.push_str(&filler(rng, room / pieces));
                if i < count {
                    text.push_str(&placeholders.pop().expect("one per gap"));
                }
            }
            text
        })
        .collect()
}

/// About 1 MiB with a placeholder every ~500 bytes (or none).
pub(crate) fn file(rng: &mut Rng, with_placeholders: bool) -> String {
    let mut text = String::with_capacity(1 << 20);
    while text.len() < (1 << 20) {
        let len = 400 + rng.below(200);
        text.push_str(&filler(rng, len));
        if with_placeholders {
            text.push_str(&placeholder(rng));
        }
    }
    text
}

/// The hand-written expander the benches compare with: `memmem` for `${`,
/// `memchr` for `}`, a lookup of what follows `values.`, a copy; the input
/// borrowed when there is no `${`. What a team would write for this one
/// syntax instead of a library. Never inlined: a call per value, as the
/// resolver's is, and a function callgrind can count alone.
#[inline(never)]
pub(crate) fn hand<'t>(map: &HashMap<String, String>, text: &'t str) -> Cow<'t, str> {
    let bytes = text.as_bytes();
    let Some(mut start) = memmem::find(bytes, b"${") else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 64);
    let mut copied = 0;
    while let Some(len) = memchr::memchr(b'}', &bytes[start + 2..]) {
        out.push_str(&text[copied..start]);
        let name = &text[start + 2..start + 2 + len];
        if let Some(v) = name.strip_prefix("values.").and_then(|k| map.get(k)) {
            out.push_str(v);
        }
        copied = start + 2 + len + 1;
        match memmem::find(&bytes[copied..], b"${") {
            Some(at) => start = copied + at,
            None => break,
        }
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}
