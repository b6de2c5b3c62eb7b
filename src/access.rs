//! Who may do what (guide: [Who may do what](crate::_documentation::guide#who-may-do-what)): pure functions over an [`Actor`]'s roles.

use std::fmt;

use crate::id::AppId;
use crate::model::{Actor, AppRole, OrgRole};

/// An action refused to an actor whose roles do not allow it. It converts
/// into [`Forbidden`](crate::Error::Forbidden), with the same fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("forbidden: {action} needs {needs}")]
#[non_exhaustive]
pub struct Forbidden {
    /// What was refused.
    pub action: Action,
    /// The roles that would allow it.
    pub needs: &'static str,
}

/// An action that needs a role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// Read values and history.
    ReadValues,
    /// Write values, restore.
    WriteValues,
    /// Purge a value from history.
    Purge,
    /// Resolve templates that use secrets.
    ResolveSecrets,
    /// Create an App.
    CreateApp,
    /// Delete an App.
    DeleteApp,
    /// Create an Environment.
    CreateEnv,
    /// Delete an Environment.
    DeleteEnv,
    /// Re-encrypt every stored secret under a new master key.
    RotateMasterKey,
    /// Rewrite the storage so that removed data leaves the disk.
    Compact,
    /// Verify the history of every App in the store.
    VerifyStore,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::ReadValues => "reading values",
            Action::WriteValues => "writing values",
            Action::Purge => "purging",
            Action::ResolveSecrets => "resolving secrets",
            Action::CreateApp => "creating an app",
            Action::DeleteApp => "deleting an app",
            Action::CreateEnv => "creating an environment",
            Action::DeleteEnv => "deleting an environment",
            Action::RotateMasterKey => "rotating the master key",
            Action::Compact => "compacting the store",
            Action::VerifyStore => "verifying the whole store",
        })
    }
}

/// Whether `actor` may do `action` on `app`.
pub fn allows(actor: &Actor, action: Action, app: &AppId) -> bool {
    let org = actor.org_role();
    if org == OrgRole::Administrator {
        return true;
    }
    let role = actor.app_role(app);
    match action {
        Action::ReadValues => role.is_some(),
        Action::WriteValues | Action::ResolveSecrets => {
            matches!(role, Some(AppRole::Owner | AppRole::Developer))
        }
        Action::Purge => role == Some(AppRole::Owner),
        Action::CreateApp | Action::CreateEnv | Action::VerifyStore => org == OrgRole::Manager,
        Action::DeleteApp | Action::DeleteEnv | Action::RotateMasterKey | Action::Compact => false,
    }
}

/// The roles that allow `action`, for [`Forbidden`].
pub fn needs(action: Action) -> &'static str {
    match action {
        Action::ReadValues => "a role on the app (Viewer, Developer or Owner) or org Administrator",
        Action::WriteValues | Action::ResolveSecrets => {
            "app Developer or Owner, or org Administrator"
        }
        Action::Purge => "app Owner or org Administrator",
        Action::CreateApp | Action::CreateEnv | Action::VerifyStore => {
            "org Administrator or Manager"
        }
        Action::DeleteApp | Action::DeleteEnv | Action::RotateMasterKey | Action::Compact => {
            "org Administrator"
        }
    }
}

/// `Ok` if `actor` may do `action`, which concerns no App (such as
/// [`Action::RotateMasterKey`]), else [`Forbidden`].
///
/// # Errors
///
/// [`Forbidden`] naming the action and the roles it needs.
pub fn check_org(actor: &Actor, action: Action) -> Result<(), Forbidden> {
    let org = actor.org_role();
    let manager_may = matches!(
        action,
        Action::CreateApp | Action::CreateEnv | Action::VerifyStore
    );
    if org == OrgRole::Administrator || (org == OrgRole::Manager && manager_may) {
        Ok(())
    } else {
        Err(Forbidden {
            action,
            needs: needs(action),
        })
    }
}

/// `Ok` if `actor` may do `action` on `app`, else [`Forbidden`].
///
/// # Errors
///
/// [`Forbidden`] naming the action and the roles it needs.
pub fn check(actor: &Actor, action: Action, app: &AppId) -> Result<(), Forbidden> {
    if allows(actor, action, app) {
        Ok(())
    } else {
        Err(Forbidden {
            action,
            needs: needs(action),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_of_spec_6() {
        use Action::*;
        let app = AppId::new("shop").unwrap();
        let other = AppId::new("other").unwrap();
        let admin = Actor::admin("a");
        let manager = Actor::new("m", OrgRole::Manager);
        let owner = Actor::new("o", OrgRole::Member).with_app_role(app.clone(), AppRole::Owner);
        let dev = Actor::new("d", OrgRole::Member).with_app_role(app.clone(), AppRole::Developer);
        let viewer = Actor::new("v", OrgRole::Member).with_app_role(app.clone(), AppRole::Viewer);
        let rows: [(&Actor, [bool; 4]); 4] = [
            (&admin, [true, true, true, true]),
            (&owner, [true, true, true, true]),
            (&dev, [true, true, false, true]),
            (&viewer, [true, false, false, false]),
        ];
        for (actor, expect) in rows {
            let got =
                [ReadValues, WriteValues, Purge, ResolveSecrets].map(|a| allows(actor, a, &app));
            assert_eq!(got, expect, "{}", actor.name());
            // Roles are per App.
            if actor.org_role() == OrgRole::Member {
                assert!(!allows(actor, ReadValues, &other));
            }
        }
        assert!(allows(&manager, CreateApp, &app) && allows(&manager, CreateEnv, &app));
        assert!(!allows(&manager, DeleteApp, &app) && !allows(&owner, CreateEnv, &app));
        assert!(allows(&admin, DeleteEnv, &app));
    }

    #[test]
    fn store_wide_actions_need_an_org_role() {
        use Action::*;
        let admin = Actor::admin("a");
        let manager = Actor::new("m", OrgRole::Manager);
        let owner = Actor::new("o", OrgRole::Member)
            .with_app_role(AppId::new("shop").unwrap(), AppRole::Owner);
        for action in [RotateMasterKey, Compact, VerifyStore] {
            assert!(check_org(&admin, action).is_ok());
            assert_eq!(check_org(&owner, action).unwrap_err().action, action);
        }
        assert!(check_org(&manager, VerifyStore).is_ok());
        assert!(
            check_org(&manager, Compact).is_err() && check_org(&manager, RotateMasterKey).is_err()
        );
        let e = check_org(&owner, VerifyStore).unwrap_err();
        assert_eq!(
            e.to_string(),
            "forbidden: verifying the whole store needs org Administrator or Manager"
        );
    }
}
