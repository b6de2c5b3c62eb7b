//! Resolving a whole workload (SPEC 5.4): variables, files, labels and
//! webhooks, with the workload's own values on top.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::Shown;
use crate::id::check_key;
use crate::placeholder::Template;

use super::{
    LookupError, Render, ResolveError, ResolveErrorKind, ResolveErrors, Resolved, Resolver, Value,
    Values,
};

/// A workload's templates, as `valuesctl resolve --workload FILE` reads them.
///
/// Unknown fields are refused when deserialising, so a typo (`varibles`) is
/// an error rather than a silently empty section.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// The workload's id, `${context.workload.id}` unless the context sets
    /// one.
    pub id: String,
    /// Workload-level values: they override Environment and App values for
    /// this workload (SPEC 2). Not versioned.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// Environment variables: name to template.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// Files: path to template and mode.
    #[serde(default)]
    pub files: BTreeMap<String, FileTemplate>,
    /// Labels: name to template. A label can never be secret.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Webhooks: name to URL and header templates.
    #[serde(default)]
    pub webhooks: BTreeMap<String, WebhookTemplate>,
}

/// A file of a [`Workload`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileTemplate {
    /// The file mode, such as `"0644"`, passed through as given.
    #[serde(default)]
    pub mode: Option<String>,
    /// The content template.
    pub value: String,
}

/// A webhook of a [`Workload`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookTemplate {
    /// The URL template.
    pub url: String,
    /// Header templates: name to template.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// A resolved [`Workload`]; each item says whether it is secret by its type.
#[derive(Debug)]
#[non_exhaustive]
pub struct ResolvedWorkload<'w> {
    /// Resolved variables.
    pub variables: BTreeMap<String, Resolved<'w>>,
    /// Resolved files.
    pub files: BTreeMap<String, ResolvedFile<'w>>,
    /// Resolved labels: never secret.
    pub labels: BTreeMap<String, Cow<'w, str>>,
    /// Resolved webhooks.
    pub webhooks: BTreeMap<String, ResolvedWebhook<'w>>,
}

/// A resolved file.
#[derive(Debug)]
#[non_exhaustive]
pub struct ResolvedFile<'w> {
    /// The mode, as the workload gave it.
    pub mode: Option<String>,
    /// The content.
    pub content: Resolved<'w>,
}

/// A resolved webhook.
#[derive(Debug)]
#[non_exhaustive]
pub struct ResolvedWebhook<'w> {
    /// The URL.
    pub url: Resolved<'w>,
    /// The headers.
    pub headers: BTreeMap<String, Resolved<'w>>,
}

/// The workload's own values over the resolver's.
struct Layered<'a> {
    top: &'a BTreeMap<String, String>,
    base: &'a dyn Values,
}

impl Values for Layered<'_> {
    fn value(&self, key: &str) -> Result<Option<Value<'_>>, LookupError> {
        match self.top.get(key) {
            Some(v) => Ok(Some(Value::Plain(Cow::Borrowed(v)))),
            None => self.base.value(key),
        }
    }
}

impl Resolver<'_> {
    /// Resolves every template of `workload`, with its `values` overriding
    /// the resolver's values and its `id` as `${context.workload.id}` (unless
    /// the context sets one).
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use valueset::resolve::{Resolver, Workload};
    ///
    /// let values = BTreeMap::from([("LOG".to_owned(), "info".to_owned())]);
    /// let mut workload = Workload { id: "api".into(), ..Workload::default() };
    /// workload.variables.insert("LOG_LEVEL".into(), "${values.LOG}".into());
    /// workload.labels.insert("app".into(), "${context.workload.id}".into());
    /// let resolved = Resolver::new(&values).resolve_workload(&workload)?;
    /// assert_eq!(resolved.variables["LOG_LEVEL"].as_plain(), Some("info"));
    /// assert_eq!(resolved.labels["app"], "api");
    /// # Ok::<(), valueset::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ResolveErrors`] listing every failing item and placeholder: syntax
    /// errors, unknown keys, a label that would be secret, an invalid key in
    /// `values`, …; each names its item (`variables.NAME`, `files.PATH`,
    /// `labels.NAME`, `webhooks.NAME.url`, `webhooks.NAME.headers.NAME`).
    pub fn resolve_workload<'w>(
        &self,
        workload: &'w Workload,
    ) -> Result<ResolvedWorkload<'w>, ResolveErrors> {
        let mut errors = Vec::new();
        for key in workload.values.keys() {
            if let Err(e) = check_key(key) {
                errors.push(ResolveError {
                    item: Some(format!("values.{}", Shown(key))),
                    span: None,
                    kind: ResolveErrorKind::InvalidKey(e),
                });
            }
        }
        let values = Layered {
            top: &workload.values,
            base: self.values,
        };
        let mut context = self.context.clone();
        if context.workload.is_none() {
            context.workload = Some(workload.id.clone());
        }
        let one = |item: String, text: &'w str, errors: &mut Vec<ResolveError>| {
            let mut render = Render::new(self, &values, &context, Some(&item), text);
            if let Err(parse_errors) = Template::scan(text, |segment| render.segment(&segment)) {
                errors.extend(parse_errors.into_iter().map(|e| ResolveError {
                    item: Some(item.clone()),
                    span: Some(e.span()),
                    kind: ResolveErrorKind::Syntax(e.kind().clone()),
                }));
                return None;
            }
            match render.finish() {
                Ok(r) => Some((item, r)),
                Err(e) => {
                    errors.extend(e);
                    None
                }
            }
        };

        let mut out = ResolvedWorkload {
            variables: BTreeMap::new(),
            files: BTreeMap::new(),
            labels: BTreeMap::new(),
            webhooks: BTreeMap::new(),
        };
        for (name, text) in &workload.variables {
            if let Some((_, r)) = one(format!("variables.{name}"), text, &mut errors) {
                out.variables.insert(name.clone(), r.resolved);
            }
        }
        for (path, file) in &workload.files {
            if let Some((_, r)) = one(format!("files.{path}"), &file.value, &mut errors) {
                out.files.insert(
                    path.clone(),
                    ResolvedFile {
                        mode: file.mode.clone(),
                        content: r.resolved,
                    },
                );
            }
        }
        for (name, text) in &workload.labels {
            if let Some((item, r)) = one(format!("labels.{name}"), text, &mut errors) {
                match r.resolved {
                    Resolved::Plain(text) => {
                        out.labels.insert(name.clone(), text);
                    }
                    Resolved::Secret(_) => errors.push(ResolveError {
                        item: Some(item),
                        span: r.first_secret,
                        kind: ResolveErrorKind::SecretInLabel,
                    }),
                }
            }
        }
        for (name, hook) in &workload.webhooks {
            let url = one(format!("webhooks.{name}.url"), &hook.url, &mut errors);
            let mut headers = BTreeMap::new();
            for (header, text) in &hook.headers {
                let item = format!("webhooks.{name}.headers.{header}");
                if let Some((_, r)) = one(item, text, &mut errors) {
                    headers.insert(header.clone(), r.resolved);
                }
            }
            if let Some((_, url)) = url {
                out.webhooks.insert(
                    name.clone(),
                    ResolvedWebhook {
                        url: url.resolved,
                        headers,
                    },
                );
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(ResolveErrors(errors))
        }
    }
}
