//! Vault references and paths: `PATH#FIELD` with an optional KV version,
//! checked before any request, and paths written into URLs safely.

use std::fmt::Write;

use crate::secret::SecretRef;

/// The field the library's own secrets are kept in.
pub(super) const VALUE_FIELD: &str = "value";

/// Where a reference points: a path under the mount, a field of the
/// secret there, and a KV version (`None`: the latest).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Target<'r> {
    pub(super) path: &'r str,
    pub(super) field: &'r str,
    pub(super) version: Option<u64>,
}

/// A path of `/`-separated parts, none empty, `.` or `..`, without
/// control characters, `#` or `?`.
pub(super) fn is_clean(path: &str) -> bool {
    !path.is_empty()
        && !path.contains(['#', '?'])
        && !path.chars().any(char::is_control)
        && path
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != "..")
}

/// The target of `reference`, or `None` when it is not `PATH#FIELD` with a
/// clean path, a field, and a version that is a positive number.
pub(super) fn parse(reference: &SecretRef) -> Option<Target<'_>> {
    let (path, field) = reference.reference.rsplit_once('#')?;
    if !is_clean(path) || field.is_empty() || field.chars().any(char::is_control) {
        return None;
    }
    let version = match &reference.version {
        None => None,
        Some(v) => Some(v.parse::<u64>().ok().filter(|v| *v > 0)?),
    };
    Some(Target {
        path,
        field,
        version,
    })
}

/// `path` for a URL: each part percent-encoded but for the characters
/// that need none, the `/` between parts kept.
pub(super) fn encoded(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The App a path under `prefix` belongs to (the part after it), or
/// `None` for a path outside it.
pub(super) fn owner<'p>(prefix: &str, path: &'p str) -> Option<&'p str> {
    let rest = path.strip_prefix(prefix)?.strip_prefix('/')?;
    rest.split('/').next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_path_hash_field_and_a_positive_version() {
        let r = SecretRef::new("teams/pay/db#password");
        assert_eq!(
            parse(&r),
            Some(Target {
                path: "teams/pay/db",
                field: "password",
                version: None
            })
        );
        let pinned = r.clone().with_version("3");
        assert_eq!(parse(&pinned).and_then(|t| t.version), Some(3));
        // The last `#` splits: a field may not hold one, a path may not.
        assert!(parse(&SecretRef::new("a#b#c")).is_none());
        for bad in [
            "db",
            "db#",
            "#field",
            "a//b#f",
            "a/../b#f",
            "./a#f",
            "a?x#f",
            "a#f\n",
            "a\u{0}b#f",
        ] {
            assert!(parse(&SecretRef::new(bad)).is_none(), "{bad:?}");
        }
        for version in ["0", "-1", "x", ""] {
            let r = SecretRef::new("a#f").with_version(version);
            assert!(parse(&r).is_none(), "{version:?}");
        }
    }

    #[test]
    fn paths_are_encoded_part_by_part() {
        assert_eq!(
            encoded("valueset/shop/_app/db.url"),
            "valueset/shop/_app/db.url"
        );
        assert_eq!(encoded("a b/ü%"), "a%20b/%C3%BC%25");
    }

    #[test]
    fn the_owner_is_the_part_after_the_prefix() {
        assert_eq!(owner("valueset", "valueset/shop/_app/PW"), Some("shop"));
        assert_eq!(
            owner("team/valueset", "team/valueset/shop/prod/PW"),
            Some("shop")
        );
        assert_eq!(owner("valueset", "valuesetx/shop/PW"), None);
        assert_eq!(owner("valueset", "teams/pay/db"), None);
        assert_eq!(owner("valueset", "valueset"), None);
    }
}
