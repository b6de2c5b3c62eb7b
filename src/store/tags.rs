//! [`Store::tag`] and [`Store::tags`]: names for versions (guide: [Tags](crate::_documentation::guide#tags)).

use crate::access::Action;
use crate::codec::{self, TagRecord};
use crate::error::Error;
use crate::history::{self, Reader, Scope};
use crate::id::{AppId, EnvId, TagName};
use crate::model::{Actor, Tag, TagMove, VersionSelector};

use super::Store;

impl Store {
    /// Points the tag `name` of a history (the App's, or `env`'s) at
    /// `version`, creating the tag or moving it; a move is recorded in the
    /// tag's [`moves`](Tag::moves). Wherever a version is asked for,
    /// [`VersionSelector::Tag`] then names it.
    ///
    /// ```
    /// use valueset::{Actor, AppId, Key, Store, TagName};
    /// use valueset::model::{NewValue, VersionSelector};
    ///
    /// let store = Store::in_memory();
    /// let admin = Actor::admin("alice");
    /// let app = AppId::new("shop")?;
    /// store.create_app(&admin, &app)?;
    /// let v1 = store.set(&admin, &app, None, &Key::new("A")?, NewValue::plain("1"), Default::default())?.id;
    /// let stable = TagName::new("stable")?;
    /// store.tag(&admin, &app, None, VersionSelector::Id(v1), &stable)?;
    /// store.set(&admin, &app, None, &Key::new("A")?, NewValue::plain("2"), Default::default())?;
    /// let tagged = store.version(&admin, &app, None, VersionSelector::Tag(stable))?;
    /// assert_eq!(tagged.info.id, v1);
    /// # Ok::<(), valueset::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] without write access; [`NotFound`](crate::error::NotFound)
    /// for the App, Environment or version.
    // The selector by value, as every read takes it.
    #[allow(clippy::needless_pass_by_value)]
    pub fn tag(
        &self,
        actor: &Actor,
        app: &AppId,
        env: Option<&EnvId>,
        version: VersionSelector,
        name: &TagName,
    ) -> Result<Tag, Error> {
        self.writing(actor, Action::WriteValues, app, env, None, |scope, meta| {
            let seq = self.reader().resolve(scope, &version)?;
            let record = history::place_tag(self.ctx(actor), scope, meta, name, seq)?;
            tag_view(scope, name.clone(), &record)
        })
    }

    /// The tags of a history (the App's, or `env`'s), by name.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] without a role on the App; [`NotFound`](crate::error::NotFound)
    /// for the App or Environment.
    pub fn tags(&self, actor: &Actor, app: &AppId, env: Option<&EnvId>) -> Result<Vec<Tag>, Error> {
        let (_, env_meta) = self.open_scope(actor, Action::ReadValues, app, env)?;
        let scope = Scope {
            app,
            env: env.zip(env_meta.as_ref()),
        };
        tags_of(self.reader(), scope)
    }
}

/// Every tag of `scope`, as reads show them.
pub(super) fn tags_of(reader: Reader<'_>, scope: Scope<'_>) -> Result<Vec<Tag>, Error> {
    reader
        .tags(scope)?
        .into_iter()
        .map(|(name, record)| tag_view(scope, name, &record))
        .collect()
}

/// A stored tag as reads show it; the decoder refuses a tag without moves.
fn tag_view(scope: Scope<'_>, name: TagName, record: &TagRecord) -> Result<Tag, Error> {
    let moves: Vec<TagMove> = record
        .moves
        .iter()
        .map(|m| TagMove {
            version: scope.id_for(m.seq),
            at: m.at,
            by: m.by.clone(),
        })
        .collect();
    let version = moves
        .last()
        .ok_or_else(|| codec::corrupted("a tag record"))?
        .version;
    Ok(Tag {
        name,
        env: scope.env_id().cloned(),
        version,
        moves,
    })
}
