//! The digest of an export document: every field but the digest itself,
//! each part length-prefixed, keyed with the export key when the secrets
//! are sealed (guide: [Export and import](crate::_documentation::guide#export-and-import)).

use crate::crypto::{self, DerivedKey, MasterKey};
use crate::id::EnvId;

use super::document::{ExportDocument, ExportSecrets, ExportedNames, ExportedValue};
use crate::model::ChangeOp;

impl ExportDocument {
    /// Sets [`digest`](Self::digest) for the document as it is now: for a
    /// document made or changed by another tool (a migration from another
    /// store, say). With sealed secrets the digest is keyed with `key`, the
    /// key they are sealed with, so only its holder can make a document
    /// that imports; otherwise `key` is not used.
    pub fn update_digest(&mut self, key: Option<&MasterKey>) {
        let keys = key
            .filter(|_| self.secrets == ExportSecrets::Sealed)
            .map(MasterKey::export_keys);
        self.digest = crypto::to_hex(&document_digest(self, keys.as_ref().map(|(_, d)| d)));
    }
}

/// The digest of everything in `doc` but its digest: keyed with `key` when
/// there is one.
pub(crate) fn document_digest(doc: &ExportDocument, key: Option<&DerivedKey>) -> [u8; 32] {
    let format = doc.format.to_be_bytes();
    let mode: &[u8] = match doc.secrets {
        ExportSecrets::References => b"references",
        ExportSecrets::Sealed => b"sealed",
    };
    let mut parts: Vec<Vec<u8>> = vec![format.to_vec(), doc.app.as_str().into(), mode.to_vec()];
    let levels = std::iter::once((None, &doc.values))
        .chain(doc.envs.iter().map(|(env, values)| (Some(env), values)));
    for (env, values) in levels {
        parts.push(format!("level {}", env.map_or("", EnvId::as_str)).into_bytes());
        parts.push(values.len().to_string().into_bytes());
        for (key, v) in values {
            parts.push(key.as_str().into());
            value_parts(v, &mut parts);
        }
    }
    // A document from before names were kept keeps the digest it had.
    if let Some(names) = &doc.names {
        names_parts(names, &mut parts);
    }
    // Tags travel only with a history (an import refuses them otherwise),
    // and a document without one keeps the digest it always had.
    if doc.history.is_some() {
        history_parts(doc, &mut parts);
    }
    let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    match key {
        Some(key) => key.keyed_digest("export", &parts),
        None => crypto::digest("export", &parts),
    }
}

/// What the digest of a document takes from one value.
fn value_parts(v: &ExportedValue, parts: &mut Vec<Vec<u8>>) {
    parts.push(v.description.clone().into_bytes());
    parts.push(
        v.value
            .clone()
            .map(|t| format!("value {t}"))
            .unwrap_or_default()
            .into_bytes(),
    );
    parts.push(vec![u8::from(v.template)]);
    parts.push(v.sealed.clone().unwrap_or_default().into_bytes());
    let r = v.secret_ref.as_ref();
    parts.push(
        r.map_or_else(String::new, |r| format!("ref {}", r.store))
            .into_bytes(),
    );
    parts.push(
        r.map_or_else(String::new, |r| r.reference.clone())
            .into_bytes(),
    );
    parts.push(
        r.and_then(|r| r.version.clone())
            .unwrap_or_default()
            .into_bytes(),
    );
}

/// What the digest of a document takes from its names.
fn names_parts(names: &ExportedNames, parts: &mut Vec<Vec<u8>>) {
    parts.push(format!("names {}", names.envs.len()).into_bytes());
    let envs = names.envs.iter().map(|(env, n)| (env.as_str(), n));
    for (level, n) in std::iter::once(("", &names.app)).chain(envs) {
        parts.push(format!("level {level}").into_bytes());
        parts.push(n.name.clone().into_bytes());
        parts.push(n.env_type.clone().into_bytes());
        parts.push(n.created_by.clone().into_bytes());
    }
}

/// What the digest of a document takes from its tags and history.
fn history_parts(doc: &ExportDocument, parts: &mut Vec<Vec<u8>>) {
    let level = |env: Option<&EnvId>| format!("level {}", env.map_or("", EnvId::as_str));
    parts.push(format!("tags {}", doc.tags.len()).into_bytes());
    for tag in &doc.tags {
        parts.push(level(tag.env.as_ref()).into_bytes());
        parts.push(format!("tag {} {}", tag.name, tag.moves.len()).into_bytes());
        for m in &tag.moves {
            parts.push(format!("{} {}", m.version, m.at_ms).into_bytes());
            parts.push(m.by.clone().into_bytes());
        }
    }
    let Some(h) = &doc.history else { return };
    parts.push(
        format!(
            "history {} {} {}",
            h.created_at_ms,
            h.next_seq,
            h.envs.len()
        )
        .into_bytes(),
    );
    for (env, at) in &h.envs {
        parts.push(format!("{env} {at}").into_bytes());
    }
    parts.push(h.versions.len().to_string().into_bytes());
    for v in &h.versions {
        parts.push(level(v.env.as_ref()).into_bytes());
        let source = v.source_version.map(|s| s.to_string()).unwrap_or_default();
        let (id, at, result) = (v.id, v.created_at_ms, v.result_of.as_str());
        parts.push(format!("version {id} {at} {result} {source}").into_bytes());
        parts.push(v.created_by.clone().into_bytes());
        parts.push(v.comment.clone().into_bytes());
        parts.push(v.change.len().to_string().into_bytes());
        for c in &v.change {
            let op = match c.op {
                ChangeOp::Add => "add",
                ChangeOp::Replace => "replace",
                ChangeOp::Remove => "remove",
            };
            parts.push(format!("{op} {:?}", c.secret_version).into_bytes());
            parts.push(c.key.as_str().into());
        }
        let cascaded = v.cascaded.iter().map(|(env, list)| (Some(env), list));
        for (env, entries) in std::iter::once((v.env.as_ref(), &v.entries)).chain(cascaded) {
            parts.push(level(env).into_bytes());
            parts.push(entries.len().to_string().into_bytes());
            for (key, e) in entries {
                parts.push(key.as_str().into());
                value_parts(&e.content, parts);
                let purged = e.purged_digest.clone().unwrap_or_default();
                let (created, updated) = (e.created_at_ms, e.updated_at_ms);
                let (introduced, version) = (e.introduced, e.secret_version);
                parts.push(
                    format!("{purged} {created} {updated} {introduced} {version:?}").into_bytes(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::document::ExportedName;
    use super::super::document_history::{
        ExportedEntry, ExportedHistory, ExportedTag, ExportedTagMove, ExportedVersion,
    };
    use super::*;
    use crate::id::{AppId, Key, TagName};
    use crate::model::{Change, ResultOf, VersionId};

    fn doc() -> ExportDocument {
        let value = ExportedValue {
            value: Some("db".into()),
            ..ExportedValue::default()
        };
        ExportDocument {
            format: 1,
            app: AppId::new("shop").unwrap(),
            secrets: ExportSecrets::References,
            values: BTreeMap::from([(Key::new("HOST").unwrap(), value)]),
            envs: BTreeMap::new(),
            names: None,
            tags: Vec::new(),
            history: None,
            digest: String::new(),
        }
    }

    fn with_history(mut doc: ExportDocument) -> ExportDocument {
        let entry = ExportedEntry {
            content: doc.values[&Key::new("HOST").unwrap()].clone(),
            purged_digest: None,
            created_at_ms: 5,
            updated_at_ms: 5,
            introduced: 1,
            secret_version: None,
        };
        doc.history = Some(ExportedHistory {
            created_at_ms: 4,
            next_seq: 2,
            envs: BTreeMap::new(),
            versions: vec![ExportedVersion {
                id: VersionId::app(1),
                env: None,
                created_at_ms: 5,
                created_by: "alice".into(),
                comment: "first".into(),
                result_of: ResultOf::AppValueCreate,
                change: vec![Change {
                    op: ChangeOp::Add,
                    key: Key::new("HOST").unwrap(),
                    secret_version: None,
                }],
                source_version: None,
                entries: BTreeMap::from([(Key::new("HOST").unwrap(), entry)]),
                cascaded: BTreeMap::new(),
            }],
        });
        doc
    }

    /// Names count when a document has them, each of their fields, and
    /// in a form of their own.
    #[test]
    fn names_count() {
        let env = EnvId::new("prod").unwrap();
        let mut named = doc();
        named.envs.insert(env.clone(), BTreeMap::new());
        let without = hex(&named, None);
        let prod = ExportedName {
            name: "Prod".into(),
            env_type: "production".into(),
            created_by: "alice".into(),
        };
        named.names = Some(ExportedNames {
            app: ExportedName {
                name: "Shop".into(),
                ..ExportedName::default()
            },
            envs: BTreeMap::from([(env, prod)]),
        });
        let with = hex(&named, None);
        assert_eq!(
            with,
            "06899112e32c1ba198bc27433810513f439d92d191ff020c87dba98e722cf2c1"
        );
        assert_ne!(with, without);
        let edits: [fn(&mut ExportedNames); 6] = [
            |n| n.app.name.push('x'),
            |n| n.app.env_type.push('x'),
            |n| n.app.created_by.push('x'),
            |n| n.envs.values_mut().for_each(|e| e.name.push('x')),
            |n| n.envs.values_mut().for_each(|e| e.env_type.push('x')),
            |n| n.envs.values_mut().for_each(|e| e.created_by.push('x')),
        ];
        for change in edits {
            let mut changed = named.clone();
            change(changed.names.as_mut().unwrap());
            assert_ne!(hex(&changed, None), with);
        }
    }

    fn hex(doc: &ExportDocument, key: Option<&MasterKey>) -> String {
        let mut doc = doc.clone();
        doc.update_digest(key);
        doc.digest
    }

    /// Known answers: the digest is a format; a change to it is deliberate
    /// and visible.
    #[test]
    fn known_answers() {
        let plain = doc();
        assert_eq!(
            hex(&plain, None),
            "e1583f49634efd455fb65adad99bb49814f70dc01380b3af0355cf04f96a90f2"
        );
        let history = with_history(plain.clone());
        assert_eq!(
            hex(&history, None),
            "bfd1072159f32996ade46b9a46a63395d502cb388d74dc9081a0bc766bd69c18"
        );
        // Tags count with a history.
        let mut tagged = history.clone();
        tagged.tags.push(ExportedTag {
            name: TagName::new("stable").unwrap(),
            env: None,
            moves: vec![ExportedTagMove {
                version: VersionId::app(1),
                at_ms: 6,
                by: "bob".into(),
            }],
        });
        assert_ne!(hex(&tagged, None), hex(&history, None));
        // A key counts only for sealed documents.
        let key = MasterKey::from_bytes([9; 32]);
        assert_eq!(hex(&plain, Some(&key)), hex(&plain, None));
        let mut sealed = plain.clone();
        sealed.secrets = ExportSecrets::Sealed;
        assert_ne!(hex(&sealed, Some(&key)), hex(&sealed, None));
    }
}
