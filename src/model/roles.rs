//! What a user may do.

crate::text_enum! {
    /// What a user may do; a user may hold several roles.
    pub enum Role {
        /// Sets up areas, organisations and products; sees everything.
        Admin = "admin",
        /// Runs one organisation: its users, stock and records.
        Coordinator = "coordinator",
        /// Records trainings and certifies peers.
        Trainer = "trainer",
        /// Hands out kits and reports reversals.
        Peer = "peer",
        /// Sees aggregate statistics for an area and the areas under it.
        Commissioner = "commissioner",
    }
}
