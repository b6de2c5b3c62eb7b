//! Who is calling: bearer tokens, kept only as SHA-256 hashes in a tokens
//! file, each with an actor name and roles.
//!
//! ```json
//! {"tokens": [{"sha256": "9f86d0…", "actor": "ci", "org_role": "member",
//!              "app_roles": {"shop": "developer"}}]}
//! ```
//!
//! A token is any string; its hash is what `printf %s TOKEN | sha256sum`
//! prints. The file holds nothing that lets anyone call the service.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::id::AppId;
use crate::model::{Actor, AppRole, OrgRole};

/// The tokens the service knows, by hash.
pub struct Tokens {
    by_hash: HashMap<[u8; 32], Actor>,
}

/// What went wrong reading or writing a tokens file; it never holds a
/// token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokensError {
    /// The file could not be read or written.
    #[error("tokens file `{path}`: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a tokens document.
    #[error("tokens file `{path}` is malformed: {reason}")]
    Malformed {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    tokens: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    sha256: String,
    actor: String,
    org_role: String,
    #[serde(default)]
    app_roles: BTreeMap<AppId, String>,
}

impl Tokens {
    /// Reads a tokens file.
    ///
    /// # Errors
    ///
    /// [`TokensError::Io`] when it cannot be read; [`TokensError::Malformed`]
    /// when it is not JSON of the documented shape, a hash is not 64 hex
    /// characters, a role is unknown, an actor name is invalid, or two
    /// entries have the same hash.
    pub fn load(path: &Path) -> Result<Tokens, TokensError> {
        let text = std::fs::read_to_string(path).map_err(|source| TokensError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Tokens::parse(&text).map_err(|reason| TokensError::Malformed {
            path: path.display().to_string(),
            reason,
        })
    }

    /// Reads a tokens document from its text.
    ///
    /// # Errors
    ///
    /// The reason the document is malformed, as for [`load`](Self::load).
    pub fn parse(text: &str) -> Result<Tokens, String> {
        let file: File = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut by_hash = HashMap::new();
        for entry in file.tokens {
            let hash = parse_hash(&entry.sha256)
                .ok_or_else(|| format!("`{}` is not 64 hex characters", entry.sha256))?;
            let mut actor = Actor::new(entry.actor.clone(), org_role(&entry.org_role)?);
            actor.check_name().map_err(|e| e.to_string())?;
            for (app, role) in entry.app_roles {
                actor = actor.with_app_role(app, app_role(&role)?);
            }
            if by_hash.insert(hash, actor).is_some() {
                return Err(format!("two entries have the hash `{}`", entry.sha256));
            }
        }
        Ok(Tokens { by_hash })
    }

    /// Writes a new tokens file (readable by its owner only) with one org
    /// Administrator token for `actor`, and returns the tokens and the
    /// token: the only time it is seen.
    ///
    /// # Errors
    ///
    /// [`TokensError::Io`] when the file exists already or cannot be
    /// written, or the operating system gives no randomness.
    pub fn create(path: &Path, actor: &str) -> Result<(Tokens, String), TokensError> {
        let token = new_token().map_err(|e| TokensError::Io {
            path: path.display().to_string(),
            source: std::io::Error::from(e),
        })?;
        let file = File {
            tokens: vec![Entry {
                sha256: hex(&sha256(&token)),
                actor: actor.to_owned(),
                org_role: "administrator".to_owned(),
                app_roles: BTreeMap::new(),
            }],
        };
        let text = serde_json::to_string_pretty(&file).unwrap_or_default();
        let io = |source| TokensError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut out = options.open(path).map_err(io)?;
        out.write_all(text.as_bytes()).map_err(io)?;
        out.write_all(b"\n").map_err(io)?;
        out.sync_all().map_err(io)?;
        let tokens = Tokens::parse(&text).map_err(|reason| TokensError::Malformed {
            path: path.display().to_string(),
            reason,
        })?;
        Ok((tokens, token))
    }

    /// The actor a token belongs to, if the service knows it.
    pub fn actor(&self, token: &str) -> Option<&Actor> {
        self.by_hash.get(&sha256(token))
    }

    /// A token's hash, and the actor it belongs to, if the service knows
    /// it: what a web session keeps instead of the token.
    pub(crate) fn sign_in(&self, token: &str) -> Option<([u8; 32], &Actor)> {
        let hash = sha256(token);
        self.by_hash.get(&hash).map(|actor| (hash, actor))
    }

    /// The actor whose token has this hash.
    pub(crate) fn by_hash(&self, hash: &[u8; 32]) -> Option<&Actor> {
        self.by_hash.get(hash)
    }

    /// How many tokens there are.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether there are none (then no request is let in).
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("count", &self.by_hash.len())
            .finish_non_exhaustive()
    }
}

/// The SHA-256 hash of a token, as a tokens file holds it (64 hex
/// characters).
pub fn token_hash(token: &str) -> String {
    hex(&sha256(token))
}

fn sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

pub(crate) fn parse_hash(text: &str) -> Option<[u8; 32]> {
    // `from_str_radix` alone would take a sign (`+f`).
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// A new token: 32 random bytes from the operating system, as hex, with a
/// prefix that says what it is (and that secret scanners can look for).
fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)?;
    Ok(format!("vs_{}", hex(&bytes)))
}

fn org_role(name: &str) -> Result<OrgRole, String> {
    match name {
        "administrator" => Ok(OrgRole::Administrator),
        "manager" => Ok(OrgRole::Manager),
        "member" => Ok(OrgRole::Member),
        _ => Err(format!(
            "unknown org role `{name}` (administrator, manager or member)"
        )),
    }
}

fn app_role(name: &str) -> Result<AppRole, String> {
    match name {
        "owner" => Ok(AppRole::Owner),
        "developer" => Ok(AppRole::Developer),
        "viewer" => Ok(AppRole::Viewer),
        _ => Err(format!(
            "unknown app role `{name}` (owner, developer or viewer)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_found_by_their_hash_only() {
        // `printf %s test | sha256sum`
        let known = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        assert_eq!(token_hash("test"), known);
        let text = format!(
            r#"{{"tokens": [
                {{"sha256": "{known}", "actor": "ci", "org_role": "member",
                  "app_roles": {{"shop": "developer", "blog": "viewer", "wiki": "owner"}}}},
                {{"sha256": "{}", "actor": "boss", "org_role": "manager"}},
                {{"sha256": "{}", "actor": "root", "org_role": "administrator"}}
            ]}}"#,
            token_hash("boss-token"),
            token_hash("root-token").to_uppercase()
        );
        let tokens = Tokens::parse(&text).unwrap();
        assert_eq!((tokens.len(), tokens.is_empty()), (3, false));
        let ci = tokens.actor("test").unwrap();
        assert_eq!((ci.name(), ci.org_role()), ("ci", OrgRole::Member));
        let shop = AppId::new("shop").unwrap();
        let blog = AppId::new("blog").unwrap();
        assert_eq!(ci.app_role(&shop), Some(AppRole::Developer));
        assert_eq!(ci.app_role(&blog), Some(AppRole::Viewer));
        let wiki = AppId::new("wiki").unwrap();
        assert_eq!(ci.app_role(&wiki), Some(AppRole::Owner));
        assert_eq!(
            tokens.actor("boss-token").unwrap().org_role(),
            OrgRole::Manager
        );
        let root = tokens.actor("root-token").unwrap();
        assert_eq!(root.org_role(), OrgRole::Administrator);
        assert!(tokens.actor("TEST").is_none());
        assert!(tokens.actor(known).is_none(), "the hash is not a token");
        assert!(!format!("{tokens:?}").contains(known));
    }

    #[test]
    fn malformed_files_say_what_is_wrong() {
        let h = token_hash("x");
        let cases = [
            ("{", "EOF"),
            (r#"{"tokens": [], "extra": 1}"#, "unknown field"),
            (
                r#"{"tokens": [{"sha256": "abc", "actor": "a", "org_role": "member"}]}"#,
                "64 hex",
            ),
            (
                &format!(
                    r#"{{"tokens": [{{"sha256": "{}", "actor": "a", "org_role": "member"}}]}}"#,
                    "zz".repeat(32)
                ),
                "64 hex",
            ),
            (
                &format!(
                    r#"{{"tokens": [{{"sha256": "{}", "actor": "a", "org_role": "member"}}]}}"#,
                    "é".repeat(32)
                ),
                "64 hex",
            ),
            (
                &format!(
                    r#"{{"tokens": [{{"sha256": "{}", "actor": "a", "org_role": "member"}}]}}"#,
                    "+f".repeat(32)
                ),
                "64 hex",
            ),
            (
                &format!(
                    r#"{{"tokens": [{{"sha256": "{h}", "actor": "a", "org_role": "king"}}]}}"#
                ),
                "unknown org role `king`",
            ),
            (
                &format!(
                    r#"{{"tokens": [{{"sha256": "{h}", "actor": "a", "org_role": "member", "app_roles": {{"shop": "boss"}}}}]}}"#
                ),
                "unknown app role `boss`",
            ),
            (
                &format!(
                    r#"{{"tokens": [{{"sha256": "{h}", "actor": "a", "org_role": "member", "app_roles": {{"Bad App": "owner"}}}}]}}"#
                ),
                "invalid",
            ),
            (
                &format!(
                    r#"{{"tokens": [{{"sha256": "{h}", "actor": "", "org_role": "member"}}]}}"#
                ),
                "actor",
            ),
            (
                &format!(
                    r#"{{"tokens": [{{"sha256": "{h}", "actor": "a", "org_role": "member"}}, {{"sha256": "{h}", "actor": "b", "org_role": "member"}}]}}"#
                ),
                "two entries",
            ),
        ];
        for (text, says) in cases {
            let e = Tokens::parse(text).err().unwrap();
            assert!(e.contains(says), "{text}: {e}");
        }
        assert!(Tokens::parse(r#"{"tokens": []}"#).unwrap().is_empty());
    }

    #[test]
    fn a_created_file_holds_one_administrator_and_only_the_hash() {
        let dir = std::env::temp_dir().join(format!("valueset-tokens-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tokens.json");
        let (tokens, token) = Tokens::create(&path, "admin").unwrap();
        assert!(token.starts_with("vs_") && token.len() == 67);
        let admin = tokens.actor(&token).unwrap();
        assert_eq!(
            (admin.name(), admin.org_role()),
            ("admin", OrgRole::Administrator)
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&token));
        assert!(text.contains(&token_hash(&token)));
        let again = Tokens::load(&path).unwrap();
        assert!(again.actor(&token).is_some());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Never over an existing file; a second token differs.
        assert!(matches!(
            Tokens::create(&path, "admin"),
            Err(TokensError::Io { .. })
        ));
        let (_, other) = Tokens::create(&dir.join("other.json"), "admin").unwrap();
        assert_ne!(other, token);
        let missing = Tokens::load(&dir.join("missing.json")).unwrap_err();
        assert!(missing.to_string().contains("missing.json"));
        std::fs::write(dir.join("bad.json"), "[]").unwrap();
        let bad = Tokens::load(&dir.join("bad.json")).unwrap_err();
        assert!(matches!(bad, TokensError::Malformed { .. }));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
