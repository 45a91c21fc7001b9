//! The signed-in caller, as every rule sees them: checked against the
//! database on every request, so that deactivating a user or changing their
//! roles takes effect at once, not when their token expires.

use super::audit::Actor;
use super::error::Error;
use crate::model::ids::{AreaId, OrganisationId, UserId};
use crate::model::roles::Role;
use crate::storage::users::Account;

#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: UserId,
    pub roles: Vec<Role>,
    pub organisation_id: Option<OrganisationId>,
    pub area_id: Option<AreaId>,
    /// The request being served, for the audit log.
    pub request_id: Option<String>,
}

impl Principal {
    /// The caller an active account makes, or `None` for an inactive one.
    pub fn of(account: Account, request_id: Option<String>) -> Option<Self> {
        account.row.active.then_some(Principal {
            user_id: account.row.id,
            roles: account.roles,
            organisation_id: account.row.organisation_id,
            area_id: account.row.area_id,
            request_id,
        })
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn is_admin(&self) -> bool {
        self.has(Role::Admin)
    }

    /// A coordinator of this organisation?
    pub fn coordinates(&self, organisation: &OrganisationId) -> bool {
        self.has(Role::Coordinator) && self.organisation_id.as_ref() == Some(organisation)
    }

    /// Forbidden unless the caller holds one of `roles`.
    pub fn require_any(&self, roles: &[Role]) -> Result<(), Error> {
        if roles.iter().any(|role| self.has(*role)) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(Error::forbidden(format!("this needs the role {}", names.join(" or "))))
        }
    }

    pub fn actor(&self) -> Actor {
        Actor { user_id: Some(self.user_id.clone()), request_id: self.request_id.clone() }
    }
}
