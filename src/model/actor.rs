//! Who does things: an [`Actor`] with an org role and roles on Apps. What
//! each role allows is in [`access`](crate::access).

use std::collections::BTreeMap;
use std::fmt;

use crate::id::AppId;
use crate::input::InvalidInput;

/// The longest actor name, in bytes.
pub const MAX_ACTOR_NAME_LEN: usize = 128;

/// Who makes a change: a name, an org role and roles on Apps (guide: [Who may do what](crate::_documentation::guide#who-may-do-what)).
///
/// ```
/// use valueset::{Actor, AppId};
/// use valueset::model::{AppRole, OrgRole};
///
/// let admin = Actor::admin("alice");
/// let dev = Actor::new("bob", OrgRole::Member).with_app_role(AppId::new("shop")?, AppRole::Developer);
/// # Ok::<(), valueset::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    name: String,
    org_role: OrgRole,
    app_roles: BTreeMap<AppId, AppRole>,
}

/// An organization role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OrgRole {
    /// May do everything.
    Administrator,
    /// May create Apps and Environments; otherwise as a Member.
    Manager,
    /// May do what their App roles allow.
    Member,
}

/// A role on one App.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AppRole {
    /// Read, write, restore, purge, resolve with secrets.
    Owner,
    /// Read, write, restore, resolve with secrets; not purge.
    Developer,
    /// Read only.
    Viewer,
}

impl Actor {
    /// An actor with an org role and no App roles.
    pub fn new(name: impl Into<String>, org_role: OrgRole) -> Self {
        Actor {
            name: name.into(),
            org_role,
            app_roles: BTreeMap::new(),
        }
    }

    /// An org Administrator.
    pub fn admin(name: impl Into<String>) -> Self {
        Actor::new(name, OrgRole::Administrator)
    }

    /// The same actor with `role` on `app`.
    #[must_use]
    pub fn with_app_role(mut self, app: AppId, role: AppRole) -> Self {
        self.app_roles.insert(app, role);
        self
    }

    /// The actor's name, as versions record it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The org role.
    pub fn org_role(&self) -> OrgRole {
        self.org_role
    }

    /// The role on `app`, if any.
    pub fn app_role(&self, app: &AppId) -> Option<AppRole> {
        self.app_roles.get(app).copied()
    }
}

impl fmt::Display for OrgRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OrgRole::Administrator => "org Administrator",
            OrgRole::Manager => "org Manager",
            OrgRole::Member => "org Member",
        })
    }
}

impl fmt::Display for AppRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AppRole::Owner => "app Owner",
            AppRole::Developer => "app Developer",
            AppRole::Viewer => "app Viewer",
        })
    }
}

impl Actor {
    /// Checks the name that versions will record: 1 to
    /// [`MAX_ACTOR_NAME_LEN`] bytes, no control characters.
    ///
    /// # Errors
    ///
    /// [`InvalidInput::Actor`] or [`InvalidInput::TooLong`].
    pub fn check_name(&self) -> Result<(), InvalidInput> {
        let invalid = |rule| InvalidInput::Actor {
            name: self.name.clone(),
            rule,
        };
        if self.name.is_empty() {
            return Err(invalid("must not be empty"));
        }
        if self.name.len() > MAX_ACTOR_NAME_LEN {
            return Err(InvalidInput::TooLong {
                what: "actor name".to_owned(),
                len: self.name.len(),
                max: MAX_ACTOR_NAME_LEN,
            });
        }
        if self.name.chars().any(char::is_control) {
            return Err(invalid("no control characters (newlines, tabs, …)"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_one_to_the_longest_length_without_control_characters() {
        let named = |name: &str| Actor::admin(name).check_name();
        assert!(named("a").is_ok());
        assert!(named(&"n".repeat(MAX_ACTOR_NAME_LEN)).is_ok());
        assert!(matches!(
            named(&"n".repeat(MAX_ACTOR_NAME_LEN + 1)),
            Err(InvalidInput::TooLong {
                len: 129,
                max: 128,
                ..
            })
        ));
        assert!(matches!(named(""), Err(InvalidInput::Actor { .. })));
        assert!(matches!(named("al\nice"), Err(InvalidInput::Actor { .. })));
    }

    #[test]
    fn an_actor_keeps_its_name_and_roles() {
        let shop = AppId::new("shop").unwrap();
        let bob = Actor::new("bob", OrgRole::Member).with_app_role(shop.clone(), AppRole::Viewer);
        assert_eq!(bob.name(), "bob");
        assert_eq!(bob.org_role(), OrgRole::Member);
        assert_eq!(bob.app_role(&shop), Some(AppRole::Viewer));
        assert_eq!(bob.app_role(&AppId::new("bank").unwrap()), None);
    }

    #[test]
    fn roles_read_as_the_guide_names_them() {
        let shown = [
            OrgRole::Administrator.to_string(),
            OrgRole::Manager.to_string(),
            OrgRole::Member.to_string(),
            AppRole::Owner.to_string(),
            AppRole::Developer.to_string(),
            AppRole::Viewer.to_string(),
        ];
        assert_eq!(
            shown,
            [
                "org Administrator",
                "org Manager",
                "org Member",
                "app Owner",
                "app Developer",
                "app Viewer"
            ]
        );
    }
}
