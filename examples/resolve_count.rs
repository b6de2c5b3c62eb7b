//! Resolves the inputs of `benches/placeholders.rs` a few times, for
//! counting instructions, which unlike times do not move with the
//! machine's load (BENCHMARKS.md):
//!
//! ```sh
//! cargo build --release --example resolve_count
//! valgrind --tool=callgrind --toggle-collect='valueset::resolve::Resolver::resolve_*' \
//!     target/release/examples/resolve_count small 3
//! valgrind --tool=callgrind --toggle-collect='*inputs::hand*' \
//!     target/release/examples/resolve_count short 3 hand
//! ```
//!
//! Cases: `small` (10,000 values of 20–200 bytes, one call each), `short`
//! (10,000 of 20–80 bytes), `file` (1 MiB with a placeholder every ~500
//! bytes); repetitions default to 3. A third argument `hand` runs the
//! benches' hand-written expander instead of the resolver.
#![allow(clippy::print_stdout)] // a program that reports what it did

use std::hint::black_box;

use valueset::resolve::Resolver;

#[path = "../benches/common/placeholder_inputs.rs"]
mod inputs;

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_else(|| "small".to_owned());
    let reps: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(3);
    // `hand` as a third argument: the benches' hand-written expander instead.
    let hand = args.next().as_deref() == Some("hand");
    // The same generator, seed and order as the bench.
    let mut rng = inputs::Rng(0x5EED_C0FF_EE00_0001);
    let map = inputs::values(&mut rng);
    let small = inputs::small_values(&mut rng);
    let file = inputs::file(&mut rng, true);
    let _without = inputs::file(&mut rng, false);
    let short = inputs::short_values(&mut rng);
    let resolver = Resolver::new(&map);
    let mut bytes = 0;
    for _ in 0..reps {
        let texts: &[String] = match case.as_str() {
            "file" => std::slice::from_ref(&file),
            "short" => &short,
            _ => &small,
        };
        for text in texts {
            bytes += if hand {
                inputs::hand(&map, black_box(text)).len()
            } else {
                let out = resolver.resolve_str(black_box(text)).expect("resolves");
                out.as_plain().map_or(0, str::len)
            };
        }
    }
    println!("{case}: {reps} times, {bytes} bytes out");
}
