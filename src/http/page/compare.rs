//! The difference between two value sets, chosen in the page: two versions
//! of one level, two Environments, or any pair of levels at any versions.

use axum::extract::{Path, Query, State};
use maud::{Markup, html};
use serde::Deserialize;

use crate::id::{EnvId, TagName};
use crate::model::{Diff, KeyDiff, ValueChange, VersionSelector};
use crate::store::DiffSide;

use super::layout::{self, crumbs};
use super::{Page, PageError, PageState, app_id, env_id};

/// The two sides, as the form sends them: a level (empty for the App's
/// own values) and a version (an id, a tag, or empty for the latest).
#[derive(Deserialize)]
pub(super) struct CompareQuery {
    from_env: Option<String>,
    from: Option<String>,
    to_env: Option<String>,
    to: Option<String>,
}

impl CompareQuery {
    /// Whether the form was sent (the App's link opens it empty).
    fn asked(&self) -> bool {
        self.from_env.is_some() || self.from.is_some() || self.to_env.is_some() || self.to.is_some()
    }
}

/// The comparison form, and the difference when it was sent.
pub(super) async fn compare(
    State(s): PageState,
    Page(session): Page,
    Path(app): Path<String>,
    Query(q): Query<CompareQuery>,
) -> Result<Markup, PageError> {
    let app = app_id(&app)?;
    let from = side(q.from_env.as_deref(), q.from.as_deref())?;
    let to = side(q.to_env.as_deref(), q.to.as_deref())?;
    let asked = q.asked();
    let (actor, a) = (session.actor.clone(), app.clone());
    let (envs, diff) = s
        .run(move |store| {
            let envs = store.envs(&actor, &a)?;
            let diff = if asked {
                Some(store.diff(&actor, &a, &from, &to)?)
            } else {
                None
            };
            Ok((envs, diff))
        })
        .await?;
    let body = html! {
        form.compare method="get" action={ "/ui/apps/" (app) "/compare" } {
            fieldset {
                legend { "From" }
                (level_select("from_env", "From level", &envs, q.from_env.as_deref()))
                label for="from" { "Version (id or tag; empty for the latest)" }
                input #from type="text" name="from" value=(q.from.as_deref().unwrap_or_default());
            }
            fieldset {
                legend { "To" }
                (level_select("to_env", "To level", &envs, q.to_env.as_deref()))
                label for="to" { "Version (id or tag; empty for the latest)" }
                input #to type="text" name="to" value=(q.to.as_deref().unwrap_or_default());
            }
            button type="submit" { "Compare" }
        }
        @if let Some(diff) = &diff {
            (diff_table(&app, diff))
        }
    };
    let title = format!("Compare values of App {app}");
    Ok(layout::page(
        &title,
        Some(&session),
        &crumbs(&app, None),
        body,
    ))
}

/// One side from the form's two fields.
fn side(env: Option<&str>, version: Option<&str>) -> Result<DiffSide, PageError> {
    // A tag never reads as a version id (`a12`), so an id is tried first.
    let version = match version.map(str::trim).filter(|v| !v.is_empty()) {
        None => VersionSelector::Latest,
        Some(text) => match text.parse() {
            Ok(id) => VersionSelector::Id(id),
            Err(_) => VersionSelector::Tag(TagName::new(text)?),
        },
    };
    Ok(match env_id(env)? {
        Some(env) => DiffSide::env(env, version),
        None => DiffSide::app(version),
    })
}

/// A choice of level: the App's own values, or an Environment.
fn level_select(name: &str, label: &str, envs: &[EnvId], chosen: Option<&str>) -> Markup {
    let chosen = chosen.unwrap_or_default();
    html! {
        label for=(name) { (label) }
        select #(name) name=(name) {
            option value="" selected[chosen.is_empty()] { "The App's own values" }
            @for env in envs {
                option value=(env) selected[chosen == env.as_str()] { "Environment " (env) }
            }
        }
    }
}

/// The keys that differ, both sides shown.
fn diff_table(app: &crate::id::AppId, diff: &Diff) -> Markup {
    let end = |env: Option<&EnvId>, id| {
        html! { (layout::level(app, env)) " at " (layout::version_link(app, env, id)) }
    };
    html! {
        h2 { "From " (end(diff.from.env.as_ref(), diff.from.version)) " to " (end(diff.to.env.as_ref(), diff.to.version)) }
        @if diff.changes.is_empty() {
            p role="status" { "No differences." }
        } @else {
            div.scroll tabindex="0" role="region" aria-label="Differences" {
                table.diff {
                    thead { tr {
                        th scope="col" { "Key" } th scope="col" { "Change" }
                        th scope="col" { "From" } th scope="col" { "To" }
                    } }
                    tbody {
                        @for change in &diff.changes { (row(change)) }
                    }
                }
            }
        }
    }
}

fn row(change: &KeyDiff) -> Markup {
    let what = match change.value {
        ValueChange::Added => "added",
        ValueChange::Removed => "removed",
        ValueChange::Changed => "changed",
        ValueChange::Unchanged => "same value",
    };
    html! {
        tr class=(what.replace(' ', "-")) {
            th scope="row" { code { (change.key) } }
            td data-label="Change" {
                (what)
                @if change.description_changed { br; "description changed" }
            }
            td data-label="From" { @if let Some(v) = &change.from { (layout::snapshot_content(v)) } @else { "—" } }
            td data-label="To" { @if let Some(v) = &change.to { (layout::snapshot_content(v)) } @else { "—" } }
        }
    }
}
