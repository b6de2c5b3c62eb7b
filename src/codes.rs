//! Every stable error code the crate gives, in one list: what each means
//! and whether trying again may succeed. Each error type's `code()` returns
//! one of these constants; a released code never changes or takes on a
//! second meaning; [`Error::code`](crate::Error::code) gives one of them.

/// One stable error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Code {
    /// The code, snake_case, as `valuesctl` prints it in `{"error": CODE}`.
    pub name: &'static str,
    /// What it means, for people.
    pub means: &'static str,
    /// Whether the same request may succeed if tried again later, with
    /// nothing changed by the caller.
    pub retryable: bool,
}

macro_rules! codes {
    ($($(#[$doc:meta])* $ident:ident = $name:literal, $retry:literal, $means:literal;)*) => {
        $(
            $(#[$doc])*
            #[doc = concat!("`", $name, "`: ", $means, ".")]
            pub const $ident: &str = $name;
        )*

        /// Every code, in the order of this module.
        pub const ALL: &[Code] = &[$(Code { name: $name, means: $means, retryable: $retry }),*];
    };
}

codes! {
    // Bad input: ids, keys, values, templates.
    INVALID_ID = "invalid_id", false, "an App or Environment id breaks its rule";
    INVALID_KEY = "invalid_key", false, "a value's key breaks its rule";
    INVALID_TAG = "invalid_tag", false, "a tag's name breaks its rule";
    INVALID_VERSION = "invalid_version", false, "a version id does not parse";
    INVALID_ACTOR = "invalid_actor", false, "an actor's name is empty, too long or has control characters";
    INVALID_MASTER_KEY = "invalid_master_key", false, "a master key is not 64 hex characters";
    INVALID_NAMESPACE = "invalid_namespace", false, "a namespace name breaks its rule or is reserved";
    INVALID_TEMPLATE_DEPTH = "invalid_template_depth", false, "a template depth limit is 0 or above the maximum";
    INVALID_EXPORT = "invalid_export", false, "an export document is malformed, truncated or tampered with";
    VALUE_TOO_LONG = "value_too_long", false, "a value is longer than the store allows";
    TOO_LONG = "too_long", false, "a description, comment or actor name is longer than allowed";
    EMPTY_BATCH = "empty_batch", false, "a batch of changes holds no change";
    INVALID_TEMPLATE = "invalid_template", false, "a template has syntax errors";
    // One syntax error of a template (its kind).
    EMPTY_PLACEHOLDER = "empty_placeholder", false, "a placeholder holds no path";
    EMPTY_SEGMENT = "empty_segment", false, "a path has an empty segment";
    INVALID_CHAR = "invalid_char", false, "a path has a character not allowed in a name, outside quotes";
    WHITESPACE = "whitespace", false, "a placeholder has whitespace";
    UNTERMINATED = "unterminated", false, "a placeholder is not closed";
    UNTERMINATED_STRING = "unterminated_string", false, "a quoted segment is not closed";
    EXPECTED_STRING = "expected_string", false, "a bracket holds no quoted string";
    EXPECTED_CLOSE_BRACKET = "expected_close_bracket", false, "a quoted segment is not followed by `]`";
    DOT_BEFORE_BRACKET = "dot_before_bracket", false, "a dot comes before a bracket";
    BAD_ESCAPE = "bad_escape", false, "a quoted segment has an unknown escape";
    BAD_UNICODE_ESCAPE = "bad_unicode_escape", false, "a `\\u` escape without four hex digits, or naming a lone surrogate";
    // What is named does not exist, or exists already.
    UNKNOWN_APP = "unknown_app", false, "no App has this id";
    UNKNOWN_ENV = "unknown_env", false, "the App has no Environment with this id";
    UNKNOWN_KEY = "unknown_key", false, "no value has this key at this level";
    UNKNOWN_VERSION = "unknown_version", false, "the history has no such version";
    UNKNOWN_TAG = "unknown_tag", false, "the history has no tag with this name";
    UNKNOWN_SECRET_STORE = "unknown_secret_store", false, "no secret store with this id is configured";
    ALREADY_EXISTS = "already_exists", false, "an App or Environment with this id exists already";
    // Refused by a rule of the history.
    CONFLICT = "conflict", true, "the version expected to be current is not";
    FORBIDDEN = "forbidden", false, "the actor's roles do not allow the action";
    NO_BASE_VALUE = "no_base_value", false, "an Environment override of a key with no App value";
    OVERRIDDEN_IN_ENVS = "overridden_in_envs", false, "an App value that Environments override, deleted without cascade";
    TEMPLATE_CYCLE = "template_cycle", false, "templates would use each other in a cycle";
    NOT_INTRODUCED_HERE = "not_introduced_here", false, "a purge names a version that did not introduce the value";
    PURGE_CURRENT_VALUE = "purge_current_value", false, "a purge names the key's current value";
    ALREADY_PURGED = "already_purged", false, "a purge names a value purged already";
    RESTORE_PURGED = "restore_purged", false, "a restore would bring back a value that was purged";
    // Resolution.
    UNRESOLVED = "unresolved", false, "placeholders could not be resolved";
    PURGED = "purged", false, "resolving needs a value that was purged";
    MISSING_KEY = "missing_key", false, "a placeholder names no key";
    UNKNOWN_CONTEXT = "unknown_context", false, "a placeholder names an unknown context field";
    MISSING_CONTEXT = "missing_context", false, "a placeholder needs a context field the deployment did not give";
    UNKNOWN_NAMESPACE = "unknown_namespace", false, "a placeholder names an unregistered namespace";
    UNKNOWN_PATH = "unknown_path", false, "a namespace has nothing at a placeholder's path";
    NAMESPACE_FAILED = "namespace_failed", false, "a registered namespace failed";
    TEMPLATE_TOO_DEEP = "template_too_deep", false, "templates nest deeper than the limit";
    SECRET_NOT_ALLOWED = "secret_not_allowed", false, "a namespace output not allowed in secrets would go into one";
    SECRET_IN_LABEL = "secret_in_label", false, "a label would hold a secret";
    // Secrets and their stores.
    SECRET_NOT_FOUND = "secret_not_found", false, "a secret store has nothing at the reference";
    SECRET_STORE_READ_ONLY = "secret_store_read_only", false, "a write was asked of a read-only secret store";
    SECRET_STORE_UNAVAILABLE = "secret_store_unavailable", true, "a secret store could not answer";
    INVALID_SECRET_REF = "invalid_secret_ref", false, "a secret reference is not one its store could hold";
    SECRET_STORE_DENIED = "secret_store_denied", false, "a secret store refused access: its credentials lack the right to the secret";
    OTHER_APP_SECRET = "other_app_secret", false, "a reference names a secret the library stored for another App";
    MISSING_MASTER_KEY = "missing_master_key", false, "secrets need a master key and none was given";
    WRONG_MASTER_KEY = "wrong_master_key", false, "the master key is not the one the store uses";
    ROTATION_UNDER_WAY = "rotation_under_way", true, "a master key rotation has not finished";
    DECRYPT_FAILED = "decrypt_failed", false, "a stored secret did not decrypt";
    // Storage.
    CORRUPTED = "corrupted", false, "stored data is damaged or of an incompatible version";
    TAMPERED = "tampered", false, "the history does not verify";
    UNSUPPORTED_FORMAT = "unsupported_format", false, "the data is of a format this version does not read";
    BUSY = "busy", true, "another process holds the store";
    NO_SPACE = "no_space", false, "the disk has no space left";
    PERMISSION_DENIED = "permission_denied", false, "the process may not read or write the storage";
    BACKEND_UNAVAILABLE = "backend_unavailable", true, "the storage could not be reached";
    BACKEND_CONFLICT = "backend_conflict", true, "another writer kept changing the data first";
    BACKEND = "backend", false, "the storage failed in another way";
    // The service (`valueset::http`).
    INVALID_REQUEST = "invalid_request", false, "a request's body, query or header is malformed or of the wrong type";
    UNAUTHORIZED = "unauthorized", false, "a request has no token, or one the service does not know";
    UNKNOWN_ORG = "unknown_org", false, "the service serves another organization";
    UNKNOWN_ROUTE = "unknown_route", false, "the service has no such path, or not with this method";
    BODY_TOO_LARGE = "body_too_large", false, "a request's body is larger than the service takes";
    REQUEST_TIMEOUT = "request_timeout", true, "a request took longer than the service waits (a slow client, or a slow store)";
    TOO_MANY_SUBSCRIBERS = "too_many_subscribers", true, "the service follows as many event streams as it was started to";
    TOO_MANY_FAILED_TOKENS = "too_many_failed_tokens", true, "an address gave unknown tokens too often; it may try again after `Retry-After`";
    KEY_EXISTS = "key_exists", false, "a value with this key exists already at this level";
    CONFIGURED_AT_START = "configured_at_start", false, "secret stores are configured when the service starts, not over the API";
}

/// The code named `name`, if there is one.
pub fn find(name: &str) -> Option<&'static Code> {
    ALL.iter().find(|c| c.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `code()` of the crate returns a constant of this list: none
    /// spells a code of its own.
    #[test]
    fn codes_come_from_this_list_only() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut dirs = vec![src];
        let mut functions = 0;
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                for body in code.split("fn code(&self) -> &'static str {").skip(1) {
                    functions += 1;
                    let body = body.split("\n    }\n").next().unwrap_or_default();
                    assert!(
                        !body.contains('"'),
                        "{}: a code spelled out",
                        path.display()
                    );
                }
            }
        }
        assert!(functions >= 8, "{functions} code() functions found");
    }

    #[test]
    fn every_code_is_unique_snake_case_and_said() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ALL {
            assert!(seen.insert(code.name), "`{}` twice", code.name);
            assert!(
                code.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_'),
                "`{}`",
                code.name
            );
            assert!(!code.means.is_empty());
            assert_eq!(find(code.name), Some(code));
        }
        assert_eq!(find("nonesuch"), None);
        // The guide's table says each, as this list does.
        let guide = include_str!("../docs/guide.md");
        for code in ALL {
            let retry = if code.retryable { "yes" } else { "no" };
            let row = format!("| `{}` | {} | {retry} |", code.name, code.means);
            assert!(guide.contains(&row), "the guide lacks {row}");
        }
        let rows = guide.lines().filter(|l| l.starts_with("| `")).count();
        assert!(rows >= ALL.len());
        assert!(find(CONFLICT).is_some_and(|c| c.retryable));
        assert!(find(FORBIDDEN).is_some_and(|c| !c.retryable));
    }
}
