//! Version ids as UUIDs. Humanitec's clients name a value set version by a
//! UUID; the library names it `a12` or `e7`. The UUID is worked out from
//! the library's id and the level that owns the version, so it is the same
//! on every replica, after every restart and after an export and import,
//! and it turns back into the library's id without a lookup.
//!
//! The layout is a UUID of version 8 (RFC 9562, "custom"): 52 bits of a
//! digest of the level (the App, or the App and Environment for an
//! Environment's own versions), the sequence number's 64 bits, and one bit
//! saying whether the version is an Environment's own. The digest bits are
//! checked when a UUID is read, so a UUID from another App or Environment
//! is an unknown version, never another level's.

use uuid::Uuid;

use crate::id::{AppId, EnvId};
use crate::model::{VersionId, VersionSelector};

/// The UUID of a version of `app` (or of its Environment `env`, whose
/// history holds the version). An Environment's history shows App versions
/// from before its first override: those have the App's UUIDs, the same
/// whichever level lists them.
///
/// ```
/// use valueset::http::{version_from_uuid, version_uuid};
/// use valueset::{AppId, EnvId, VersionId};
///
/// let (app, env) = (AppId::new("shop")?, EnvId::new("prod")?);
/// let a3: VersionId = "a3".parse()?;
/// let uuid = version_uuid(&app, Some(&env), a3);
/// assert_eq!(uuid, version_uuid(&app, None, a3));
/// assert_eq!(version_from_uuid(&app, Some(&env), &uuid.to_string()), Some(a3));
/// assert_eq!(version_from_uuid(&AppId::new("blog")?, None, &uuid.to_string()), None);
/// # Ok::<(), valueset::Error>(())
/// ```
pub fn version_uuid(app: &AppId, env: Option<&EnvId>, id: VersionId) -> Uuid {
    let owner = if id.is_env() { env } else { None };
    let digest = level_digest(app, owner);
    let seq = id.seq().to_be_bytes();
    let mut bytes = [0u8; 16];
    bytes[..7].copy_from_slice(&digest[..7]);
    // Byte 6's high half becomes the version; byte 8's top bits the
    // variant; byte 8's low bit says whose the version is.
    bytes[7] = seq[0];
    bytes[8] = u8::from(id.is_env());
    bytes[9..].copy_from_slice(&seq[1..]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// The version a UUID names in `app`'s history (or in its Environment
/// `env`'s), or `None` when it is no version of that level: malformed, of
/// another layout, or of another App or Environment. The all-zero UUID is
/// not a version id (see [`parse_selector`]).
pub fn version_from_uuid(app: &AppId, env: Option<&EnvId>, text: &str) -> Option<VersionId> {
    let uuid = Uuid::try_parse(text).ok()?;
    let bytes = uuid.as_bytes();
    if uuid.get_version_num() != 8 || bytes[8] & 0x3f > 1 {
        return None;
    }
    let is_env = bytes[8] & 1 == 1;
    let owner = if is_env { Some(env?) } else { None };
    let digest = level_digest(app, owner);
    if bytes[..6] != digest[..6] || bytes[6] & 0x0f != digest[6] & 0x0f {
        return None;
    }
    let mut seq = [0u8; 8];
    seq[0] = bytes[7];
    seq[1..].copy_from_slice(&bytes[9..]);
    let seq = u64::from_be_bytes(seq);
    Some(if is_env {
        VersionId::env(seq)
    } else {
        VersionId::app(seq)
    })
}

/// A version as a request names it: the all-zero UUID or `latest` for the
/// newest, a version's UUID, the library's own id (`a3`, `e2`), or a tag.
/// `None` when it is none of these at this level.
pub fn parse_selector(app: &AppId, env: Option<&EnvId>, text: &str) -> Option<VersionSelector> {
    if Uuid::try_parse(text).is_ok_and(|u| u.is_nil()) {
        return Some(VersionSelector::Latest);
    }
    if let Some(id) = version_from_uuid(app, env, text) {
        return Some(VersionSelector::Id(id));
    }
    if Uuid::try_parse(text).is_ok() {
        return None;
    }
    text.parse().ok()
}

fn level_digest(app: &AppId, env: Option<&EnvId>) -> [u8; 32] {
    let mut h = blake3::Hasher::new_derive_key("valueset 2026-12 version uuid level");
    h.update(app.as_str().as_bytes());
    if let Some(env) = env {
        h.update(b"/");
        h.update(env.as_str().as_bytes());
    }
    *h.finalize().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (AppId, EnvId, EnvId) {
        (
            AppId::new("shop").unwrap(),
            EnvId::new("prod").unwrap(),
            EnvId::new("dev").unwrap(),
        )
    }

    #[test]
    fn uuids_turn_back_into_their_ids_at_their_level_only() {
        let (app, prod, dev) = ids();
        for seq in [0, 1, 2, 255, 256, 1 << 40, u64::MAX] {
            let a = VersionId::app(seq);
            let e = VersionId::env(seq);
            let ua = version_uuid(&app, None, a);
            let ue = version_uuid(&app, Some(&prod), e);
            assert_eq!(ua.get_version_num(), 8);
            assert_eq!(ua.get_variant(), uuid::Variant::RFC4122);
            assert_ne!(ua, ue);
            assert_eq!(version_from_uuid(&app, None, &ua.to_string()), Some(a));
            assert_eq!(
                version_from_uuid(&app, Some(&dev), &ua.to_string()),
                Some(a)
            );
            assert_eq!(
                version_from_uuid(&app, Some(&prod), &ue.to_string()),
                Some(e)
            );
            // Another Environment's, the App level, another App: unknown.
            assert_eq!(version_from_uuid(&app, Some(&dev), &ue.to_string()), None);
            assert_eq!(version_from_uuid(&app, None, &ue.to_string()), None);
            let blog = AppId::new("blog").unwrap();
            assert_eq!(version_from_uuid(&blog, None, &ua.to_string()), None);
        }
        // The same for every caller: a known value, fixed forever.
        let known = version_uuid(&app, None, VersionId::app(3)).to_string();
        assert_eq!(known.len(), 36);
        assert_eq!(&known[14..15], "8");
        assert_eq!(
            version_uuid(&app, None, VersionId::app(3)).to_string(),
            known
        );
    }

    #[test]
    fn damaged_or_foreign_uuids_are_unknown() {
        let (app, prod, _) = ids();
        let good = version_uuid(&app, Some(&prod), VersionId::env(9));
        let text = good.to_string();
        // Each of the digest's hex digits, changed.
        for i in [0, 1, 7, 9, 12, 14, 15, 16, 17] {
            let mut damaged: Vec<char> = text.chars().collect();
            if damaged[i] == '-' {
                continue;
            }
            damaged[i] = if damaged[i] == '0' { '1' } else { '0' };
            let damaged: String = damaged.into_iter().collect();
            assert_ne!(
                version_from_uuid(&app, Some(&prod), &damaged),
                Some(VersionId::env(9)),
                "{damaged}"
            );
        }
        // A random (version 4) UUID and bad flag bits.
        let v4 = "6f1c2a1e-3b4d-4c5e-8f70-112233445566";
        assert_eq!(version_from_uuid(&app, None, v4), None);
        let mut bytes = *good.as_bytes();
        bytes[8] |= 0x02;
        let flagged = Uuid::from_bytes(bytes).to_string();
        assert_eq!(version_from_uuid(&app, Some(&prod), &flagged), None);
        // An Environment's version needs its Environment.
        assert_eq!(version_from_uuid(&app, None, &text), None);
        assert_eq!(version_from_uuid(&app, None, "a3"), None);
    }

    #[test]
    fn selectors_take_every_form() {
        let (app, prod, _) = ids();
        let nil = "00000000-0000-0000-0000-000000000000";
        assert_eq!(
            parse_selector(&app, None, nil),
            Some(VersionSelector::Latest)
        );
        assert_eq!(
            parse_selector(&app, None, "latest"),
            Some(VersionSelector::Latest)
        );
        let e2 = VersionId::env(2);
        let u = version_uuid(&app, Some(&prod), e2).to_string();
        assert_eq!(parse_selector(&app, Some(&prod), &u), Some(e2.into()));
        assert_eq!(parse_selector(&app, None, &u), None);
        assert_eq!(parse_selector(&app, None, "e2"), Some(e2.into()));
        let tag = parse_selector(&app, None, "stable");
        assert!(matches!(tag, Some(VersionSelector::Tag(t)) if t.as_str() == "stable"));
        assert_eq!(parse_selector(&app, None, "not a version!"), None);
    }
}
