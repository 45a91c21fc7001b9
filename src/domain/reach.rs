//! Whom a trainer may train and certify: the people of their own
//! organisation and of the organisations in its area or the areas beneath
//! it (an NHS board's trainers train the hubs of its partnerships). A
//! coordinator recording a session for a trainer works within the
//! trainer's reach; an admin within no limit.

use std::collections::{BTreeSet, HashMap};

use super::areas::with_descendants;
use super::error::Error;
use crate::model::ids::{AreaId, OrganisationId, UserId};
use crate::storage::{organisations, users, DbConnection};

/// The organisation a trainer works for, and the areas their reach covers.
pub struct Reach {
    organisation: OrganisationId,
    areas: BTreeSet<AreaId>,
}

/// Whether each user asked about is known and within reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Unknown,
    OutOfReach,
    InReach,
}

impl Reach {
    /// The reach of a trainer of `organisation`.
    pub fn of(conn: &mut DbConnection, organisation: &OrganisationId) -> Result<Self, Error> {
        let area = organisations::area_of(conn, organisation)?;
        let areas = with_descendants(conn, &area)?.into_iter().collect();
        Ok(Self { organisation: organisation.clone(), areas })
    }

    /// Where each of `people` stands, in the order asked (one query).
    pub fn standings(&self, conn: &mut DbConnection, people: &[UserId]) -> Result<Vec<Standing>, Error> {
        let ids: Vec<&UserId> = people.iter().collect::<BTreeSet<_>>().into_iter().collect();
        let placed: HashMap<UserId, (Option<OrganisationId>, Option<AreaId>)> = users::placements(conn, &ids)?
            .into_iter()
            .map(|(id, organisation, area)| (id, (organisation, area)))
            .collect();
        Ok(people
            .iter()
            .map(|person| match placed.get(person) {
                None => Standing::Unknown,
                Some((organisation, area)) => {
                    let own = organisation.as_ref() == Some(&self.organisation);
                    if own || area.as_ref().is_some_and(|a| self.areas.contains(a)) {
                        Standing::InReach
                    } else {
                        Standing::OutOfReach
                    }
                }
            })
            .collect())
    }

    /// Is this one person within reach?
    pub fn covers(&self, conn: &mut DbConnection, person: &UserId) -> Result<bool, Error> {
        Ok(self.standings(conn, std::slice::from_ref(person))? == [Standing::InReach])
    }
}
