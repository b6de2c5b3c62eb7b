//! The bodies of value requests (Humanitec's payloads: a new value, a
//! replacement, a patch, a secret or a reference to one) and what each
//! asks the store to keep.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::model::NewValue;
use crate::secret::{Secret, SecretRef};

use super::error::ApiError;

/// A secret to store, or a reference to one (`SecretReference`).
#[derive(Deserialize, ToSchema)]
pub(crate) struct SecretRefBody {
    /// The store a reference points into.
    pub(super) store: Option<String>,
    /// The reference, in the store's own format.
    #[serde(rename = "ref")]
    pub(super) reference: Option<String>,
    /// The version of the referenced secret, if the store has versions.
    pub(super) version: Option<String>,
    /// A secret to store (instead of a reference).
    pub(super) value: Option<String>,
}

/// A new value (`ValueCreatePayloadRequest`), or a whole replacement
/// (`ValueEditPayloadRequest`, where `key` may be left out).
#[derive(Deserialize, ToSchema)]
pub(crate) struct ValueBody {
    /// The key (`^[A-Za-z0-9_.-]+$`).
    #[schema(pattern = "^[A-Za-z0-9_.-]+$", max_length = 256)]
    pub(super) key: Option<String>,
    /// The value, or the secret when `is_secret`.
    pub(super) value: Option<String>,
    /// What it is for (at most 4096 bytes): required, as Humanitec's
    /// document has it, and `null` for none.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, required = true, max_length = 4096)]
    pub(super) description: Given,
    /// Whether it is a secret.
    #[serde(default)]
    pub(super) is_secret: bool,
    /// A secret to store, or a reference to one.
    pub(super) secret_ref: Option<SecretRefBody>,
    /// Whether the value is a template over the same level's values (an
    /// addition).
    #[serde(default)]
    pub(super) template: bool,
}

/// A change of some of a value's parts (`ValuePatchPayloadRequest`).
#[derive(Deserialize, ToSchema)]
pub(crate) struct PatchBody {
    /// The new value (a secret's new content, for a secret).
    pub(super) value: Option<String>,
    /// The new description (at most 4096 bytes).
    #[schema(max_length = 4096)]
    pub(super) description: Option<String>,
    /// A new secret to store, or a new reference.
    pub(super) secret_ref: Option<SecretRefBody>,
}

/// A field that must be in a body, where `null` is a value.
#[derive(Default)]
pub(super) enum Given {
    /// Not in the body.
    #[default]
    Missing,
    /// In the body (`None` for `null`).
    Value(Option<String>),
}

pub(super) fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Given, D::Error> {
    Option::<String>::deserialize(d).map(Given::Value)
}

pub(super) fn required_description(given: Given) -> Result<String, ApiError> {
    match given {
        Given::Value(text) => Ok(text.unwrap_or_default()),
        Given::Missing => Err(ApiError::bad_request(
            "the body has no `description` (give `null` for none)",
        )),
    }
}

/// What a value's payload asks to store.
pub(super) fn new_value(
    is_secret: bool,
    value: Option<String>,
    secret_ref: Option<SecretRefBody>,
    template: bool,
) -> Result<NewValue, ApiError> {
    if let Some(r) = secret_ref {
        if value.is_some() {
            return Err(ApiError::bad_request(
                "give `value` or `secret_ref`, not both",
            ));
        }
        return match (r.value, r.reference) {
            (Some(_), Some(_)) => Err(ApiError::bad_request(
                "`secret_ref` takes `value` or `ref`, not both",
            )),
            (Some(secret), None) => Ok(NewValue::secret(Secret::new(secret))),
            (None, Some(reference)) => {
                let store = r.store.ok_or_else(|| {
                    ApiError::bad_request("a `secret_ref` with `ref` needs `store`")
                })?;
                let mut at = SecretRef::new(reference);
                if let Some(version) = r.version {
                    at = at.with_version(version);
                }
                Ok(NewValue::secret_ref(store, at))
            }
            (None, None) => Err(ApiError::bad_request("`secret_ref` needs `value` or `ref`")),
        };
    }
    let text = value.unwrap_or_default();
    Ok(if is_secret {
        NewValue::secret(Secret::new(text))
    } else if template {
        NewValue::template(text)
    } else {
        NewValue::plain(text)
    })
}
