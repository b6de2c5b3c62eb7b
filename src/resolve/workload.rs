//! Resolving a whole workload (guide: [What can be resolved](crate::_documentation::guide#what-can-be-resolved)): variables, files, labels and
//! webhooks, with the workload's own values on top.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::id::check_key;
use crate::placeholder::Template;
use crate::text::Shown;

use super::nested::Nesting;
use super::render::{Render, Rendered};

use super::{
    Context, LookupError, ResolveError, ResolveErrorKind, ResolveErrors, Resolved, Resolver, Value,
    Values,
};

/// A workload's templates, as `valuesctl resolve --workload FILE` reads them.
///
/// Unknown fields are refused when deserialising, so a typo (`varibles`) is
/// an error rather than a silently empty section.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// The workload's id, `${context.workload.id}` unless the context sets
    /// one.
    pub id: String,
    /// Workload-level values: they override Environment and App values for
    /// this workload (guide: [The hierarchy](crate::_documentation::guide#the-hierarchy)). Not versioned.
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
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
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

    fn prefetch(&self, keys: &[&str]) {
        let below: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|k| !self.top.contains_key(*k))
            .collect();
        self.base.prefetch(&below);
    }
}

impl Workload {
    /// The keys its templates (variables, files, labels, webhooks) name
    /// with `${values.KEY}`, once each (a template that does not parse
    /// names none: resolving says why): what it asks of an Environment,
    /// and what [`Store::snapshot_for`](crate::Store::snapshot_for) reads.
    pub fn value_keys(&self) -> BTreeSet<String> {
        named_keys(self)
    }
}

/// The keys the templates of `workload` name with `${values.KEY}`, once
/// each (a template that does not parse names none: rendering says why).
fn named_keys(workload: &Workload) -> BTreeSet<String> {
    let files = workload.files.values().map(|f| f.value.as_str());
    let hooks = workload.webhooks.values().flat_map(|h| {
        std::iter::once(h.url.as_str()).chain(h.headers.values().map(String::as_str))
    });
    workload
        .variables
        .values()
        .map(String::as_str)
        .chain(files)
        .chain(workload.labels.values().map(String::as_str))
        .chain(hooks)
        .filter_map(|text| Template::parse(text).ok())
        .flat_map(|t| t.value_keys().map(Cow::into_owned).collect::<Vec<_>>())
        .collect()
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
        let values = Layered {
            top: &workload.values,
            base: self.values,
        };
        let mut context = self.context.clone();
        if context.workload.is_none() {
            context.workload = Some(workload.id.clone());
        }
        let keys = named_keys(workload);
        values.prefetch(&keys.iter().map(String::as_str).collect::<Vec<_>>());
        let nesting = Nesting::new(self.template_depth);
        let mut items = Items {
            resolver: self,
            values: &values,
            context: &context,
            nesting: &nesting,
            errors: invalid_value_keys(workload),
        };
        let out = ResolvedWorkload {
            variables: items.variables(&workload.variables),
            files: items.files(&workload.files),
            labels: items.labels(&workload.labels),
            webhooks: items.webhooks(&workload.webhooks),
        };
        if items.errors.is_empty() {
            Ok(out)
        } else {
            Err(ResolveErrors(items.errors))
        }
    }
}

/// The workload's `values` whose keys break the key rule.
fn invalid_value_keys(workload: &Workload) -> Vec<ResolveError> {
    workload
        .values
        .keys()
        .filter_map(|key| {
            check_key(key).err().map(|e| ResolveError {
                item: Some(format!("values.{}", Shown(key))),
                span: None,
                kind: ResolveErrorKind::InvalidKey(e),
            })
        })
        .collect()
}

/// Resolves a workload's items one by one, collecting every error.
struct Items<'s, 'r> {
    resolver: &'s Resolver<'r>,
    values: &'s dyn Values,
    context: &'s Context,
    nesting: &'s Nesting,
    errors: Vec<ResolveError>,
}

impl<'s, 'r: 's> Items<'s, 'r> {
    /// Resolves one item's template; `None` (with the errors kept) when it
    /// fails.
    fn one<'w>(&mut self, item: String, text: &'w str) -> Option<(String, Rendered<'w>)> {
        let mut render = Render::new(
            self.resolver,
            self.values,
            self.context,
            Some(&item),
            self.nesting,
            text,
        );
        if let Err(parse_errors) = Template::scan(text, |segment| render.segment(&segment)) {
            self.errors
                .extend(parse_errors.into_iter().map(|e| ResolveError {
                    item: Some(item.clone()),
                    span: Some(e.span()),
                    kind: ResolveErrorKind::Syntax(e.kind().clone()),
                }));
            return None;
        }
        match render.finish() {
            Ok(r) => Some((item, r)),
            Err(e) => {
                self.errors.extend(e);
                None
            }
        }
    }

    fn variables<'w>(
        &mut self,
        variables: &'w BTreeMap<String, String>,
    ) -> BTreeMap<String, Resolved<'w>> {
        let mut out = BTreeMap::new();
        for (name, text) in variables {
            if let Some((_, r)) = self.one(format!("variables.{name}"), text) {
                out.insert(name.clone(), r.resolved);
            }
        }
        out
    }

    fn files<'w>(
        &mut self,
        files: &'w BTreeMap<String, FileTemplate>,
    ) -> BTreeMap<String, ResolvedFile<'w>> {
        let mut out = BTreeMap::new();
        for (path, file) in files {
            if let Some((_, r)) = self.one(format!("files.{path}"), &file.value) {
                let content = r.resolved;
                let mode = file.mode.clone();
                out.insert(path.clone(), ResolvedFile { mode, content });
            }
        }
        out
    }

    /// Labels are never secret: one that would be is an error.
    fn labels<'w>(
        &mut self,
        labels: &'w BTreeMap<String, String>,
    ) -> BTreeMap<String, Cow<'w, str>> {
        let mut out = BTreeMap::new();
        for (name, text) in labels {
            if let Some((item, r)) = self.one(format!("labels.{name}"), text) {
                match r.resolved {
                    Resolved::Plain(text) => {
                        out.insert(name.clone(), text);
                    }
                    Resolved::Secret(_) => self.errors.push(ResolveError {
                        item: Some(item),
                        span: r.first_secret,
                        kind: ResolveErrorKind::SecretInLabel,
                    }),
                }
            }
        }
        out
    }

    fn webhooks<'w>(
        &mut self,
        webhooks: &'w BTreeMap<String, WebhookTemplate>,
    ) -> BTreeMap<String, ResolvedWebhook<'w>> {
        let mut out = BTreeMap::new();
        for (name, hook) in webhooks {
            let url = self.one(format!("webhooks.{name}.url"), &hook.url);
            let mut headers = BTreeMap::new();
            for (header, text) in &hook.headers {
                let item = format!("webhooks.{name}.headers.{header}");
                if let Some((_, r)) = self.one(item, text) {
                    headers.insert(header.clone(), r.resolved);
                }
            }
            if let Some((_, url)) = url {
                let url = url.resolved;
                out.insert(name.clone(), ResolvedWebhook { url, headers });
            }
        }
        out
    }
}
