//! Time: [`Timestamp`], and the [`Clock`] a store takes it from.

use std::fmt;

use serde::{Serialize, Serializer};

/// Milliseconds since the Unix epoch, UTC. Prints as RFC 3339
/// (`2026-11-23T08:03:14.123Z`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

/// Where the time of a change comes from. Inject one with
/// [`StoreBuilder::clock`](crate::StoreBuilder::clock) to make tests
/// deterministic; any `Fn() -> Timestamp` is a clock (so the trait does not
/// ask for `Debug`, which closures lack).
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Timestamp {
    /// From milliseconds since the Unix epoch.
    pub const fn from_millis(millis: i64) -> Self {
        Timestamp(millis)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = self.0.rem_euclid(1000);
        let secs = self.0.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Timestamp(millis)
    }
}

impl<F: Fn() -> Timestamp + Send + Sync + 'static> Clock for F {
    fn now(&self) -> Timestamp {
        self()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_print_as_rfc3339() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Timestamp(1_795_420_994_123).to_string(),
            "2026-11-23T08:03:14.123Z"
        );
        assert_eq!(
            Timestamp(951_782_400_000).to_string(),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(Timestamp(-1).to_string(), "1969-12-31T23:59:59.999Z");
    }

    fn is_leap(y: i64) -> bool {
        (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
    }

    fn month_len(y: i64, m: u32) -> u32 {
        match m {
            2 if is_leap(y) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    /// Every day from 1370 to 2570 (three 400-year cycles, their century
    /// and leap days), against a calendar counted one day at a time.
    #[test]
    fn every_day_of_twelve_centuries_agrees_with_counting() {
        let start = -219_145; // 1370-01-01
        let (mut y, mut m, mut d) = (1370_i64, 1_u32, 1_u32);
        assert_eq!(civil_from_days(start), (y, m, d));
        for days in start..start + 438_291 {
            assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
            d += 1;
            if d > month_len(y, m) {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
        assert_eq!((y, m, d), (2570, 1, 1));
    }

    #[test]
    fn the_time_of_day_is_hours_minutes_seconds_and_millis() {
        let at = |h: i64, min: i64, s: i64, ms: i64| {
            Timestamp(((h * 60 + min) * 60 + s) * 1000 + ms).to_string()
        };
        assert_eq!(at(13, 47, 5, 9), "1970-01-01T13:47:05.009Z");
        assert_eq!(at(23, 59, 59, 999), "1970-01-01T23:59:59.999Z");
        assert_eq!(at(24, 0, 0, 0), "1970-01-02T00:00:00.000Z");
    }

    #[test]
    fn the_system_clock_reads_the_time_and_a_closure_is_a_clock() {
        let before = SystemClock.now().as_millis();
        assert!(before > 1_700_000_000_000, "{before}");
        let fixed = || Timestamp::from_millis(42);
        assert_eq!(fixed.now(), Timestamp(42));
        assert_eq!(Timestamp::from_millis(7).as_millis(), 7);
    }
}
