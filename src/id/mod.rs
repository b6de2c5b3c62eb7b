//! Validated identifiers: [`AppId`], [`EnvId`] and [`Key`] (guide: [Objects and identifiers](crate::_documentation::guide#objects-and-identifiers)).
//!
//! Each is a newtype over `String` that can only be built through
//! validation: [`Key::new`], [`FromStr`], `TryFrom<String>`, `TryFrom<&str>`
//! and serde deserialisation all check the rule, and a bad input is an
//! [`InvalidId`] error that names the input and the rule it broke.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

mod invalid;

pub use invalid::{IdKind, InvalidId};

/// The longest App or Environment id, in bytes.
pub const MAX_ID_LEN: usize = 50;
/// The longest key, in bytes.
pub const MAX_KEY_LEN: usize = 256;

macro_rules! string_newtype {
    ($(#[$meta:meta])* $name:ident, $check:path) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates `s` and builds the id from it.
            ///
            /// # Errors
            ///
            /// [`InvalidId`] naming the input and the rule it broke.
            pub fn new(s: impl Into<String>) -> Result<Self, InvalidId> {
                let s = s.into();
                $check(&s)?;
                Ok(Self(s))
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, InvalidId> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(s: String) -> Result<Self, InvalidId> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = InvalidId;
            fn try_from(s: &str) -> Result<Self, InvalidId> {
                Self::new(s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

string_newtype!(
    /// An App's id: `^[a-z0-9](?:-?[a-z0-9]+)+$`, at most 50 bytes.
    ///
    /// ```
    /// use valueset::AppId;
    /// assert!(AppId::new("checkout-api").is_ok());
    /// assert!(AppId::new("Checkout").is_err());
    /// ```
    AppId,
    check_app_id
);

string_newtype!(
    /// An Environment's id within an App; the same rule as [`AppId`].
    ///
    /// ```
    /// use valueset::EnvId;
    /// assert!(EnvId::new("production").is_ok());
    /// assert!(EnvId::new("prod--eu").is_err());
    /// ```
    EnvId,
    check_env_id
);

string_newtype!(
    /// A shared value's key: `^[A-Za-z0-9._-]+$`, 1 to 256 bytes.
    ///
    /// Keys may contain dots: `${values.db.host}` names the key `db.host`.
    ///
    /// ```
    /// use valueset::Key;
    /// assert!(Key::new("db.host").is_ok());
    /// assert!(Key::new("A B").is_err());
    /// ```
    Key,
    check_key
);

string_newtype!(
    /// A tag: a name for a version of one level (guide: [Tags](crate::_documentation::guide#tags)).
    /// `^[A-Za-z0-9._-]+$`, 1 to 128 bytes, and not a name that reads as a
    /// version (`latest`, `a12`, `e7`), so that wherever a version is
    /// asked for, a tag can stand in for it.
    ///
    /// ```
    /// use valueset::TagName;
    ///
    /// assert!(TagName::new("release-42").is_ok());
    /// assert!(TagName::new("a12").is_err());
    /// # Ok::<(), valueset::Error>(())
    /// ```
    TagName,
    check_tag
);

/// The longest tag, in bytes.
pub const MAX_TAG_LEN: usize = 128;

fn check_tag(s: &str) -> Result<(), InvalidId> {
    let fail = |rule| InvalidId::Tag {
        input: s.to_owned(),
        rule,
    };
    if s.is_empty() {
        return Err(fail("must not be empty"));
    }
    if s.len() > MAX_TAG_LEN {
        return Err(fail("at most 128 bytes"));
    }
    if !s.bytes().all(is_key_byte) {
        return Err(fail("only letters, digits, `.`, `_` and `-`"));
    }
    let reads_as_version = s == "latest"
        || s.split_at_checked(1).is_some_and(|(kind, digits)| {
            matches!(kind, "a" | "e")
                && !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
        });
    if reads_as_version {
        return Err(fail("must not read as a version (`latest`, `a12`, `e7`)"));
    }
    Ok(())
}

fn check_app_id(s: &str) -> Result<(), InvalidId> {
    check_id(s, IdKind::App)
}

fn check_env_id(s: &str) -> Result<(), InvalidId> {
    check_id(s, IdKind::Env)
}

/// `^[a-z0-9](?:-?[a-z0-9]+)+$`: lowercase alphanumerics, at least two of
/// them, with single hyphens between alphanumerics.
fn check_id(s: &str, kind: IdKind) -> Result<(), InvalidId> {
    let fail = |rule| InvalidId::Id {
        kind,
        input: s.to_owned(),
        rule,
    };
    if s.len() > MAX_ID_LEN {
        return Err(fail("at most 50 bytes"));
    }
    let b = s.as_bytes();
    if b.len() < 2 {
        return Err(fail("at least 2 characters"));
    }
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !b.iter().all(|&c| alnum(c) || c == b'-') {
        return Err(fail("only lowercase letters, digits and `-`"));
    }
    if b.first() == Some(&b'-') || b.last() == Some(&b'-') {
        return Err(fail("must start and end with a letter or digit"));
    }
    if b.windows(2).any(|w| w == b"--") {
        return Err(fail("no two `-` in a row"));
    }
    Ok(())
}

/// The key rule; shared with the resolver, which checks keys it has only
/// borrowed.
pub(crate) fn check_key(s: &str) -> Result<(), InvalidId> {
    let fail = |rule| InvalidId::Key {
        input: s.to_owned(),
        rule,
    };
    if s.is_empty() {
        return Err(fail("must not be empty"));
    }
    if s.len() > MAX_KEY_LEN {
        return Err(fail("at most 256 bytes"));
    }
    if !s.bytes().all(is_key_byte) {
        return Err(fail("only letters, digits, `.`, `_` and `-`"));
    }
    Ok(())
}

pub(crate) fn is_key_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_pattern() {
        for ok in ["ab", "a1", "a-b", "a-b-c", "0-9", &"a".repeat(50)] {
            assert!(AppId::new(ok).is_ok(), "{ok}");
            assert!(EnvId::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a",
            "-a",
            "a-",
            "a--b",
            "A-b",
            "a_b",
            "a.b",
            "a b",
            "é1",
            &"a".repeat(51),
        ] {
            assert!(AppId::new(bad).is_err(), "{bad}");
            assert!(EnvId::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_follow_the_pattern() {
        for ok in ["a", "A.b_c-d", "1", &"k".repeat(256)] {
            assert!(Key::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "a/b", "ä", "${x}", &"k".repeat(257)] {
            assert!(Key::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tags_follow_the_pattern() {
        for ok in [
            "stable",
            "release-42",
            "v1.2",
            "a",
            "e",
            "a1b",
            "ab12",
            "A1",
            &"t".repeat(128),
        ] {
            assert!(TagName::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", "latest", "a1", "e12", "a007", "x y", &"t".repeat(129)] {
            assert_eq!(
                TagName::new(bad).unwrap_err().code(),
                "invalid_tag",
                "{bad}"
            );
        }
    }

    #[test]
    fn errors_name_input_and_rule() {
        let e = Key::new("A B").unwrap_err();
        assert_eq!(e.code(), "invalid_key");
        assert_eq!(
            e.to_string(),
            "invalid key `A B`: only letters, digits, `.`, `_` and `-`"
        );
        let e = AppId::new("a--b").unwrap_err();
        assert_eq!(e.code(), "invalid_id");
        assert_eq!(e.to_string(), "invalid app id `a--b`: no two `-` in a row");
    }
}
