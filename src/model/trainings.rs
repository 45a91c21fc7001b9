//! What kind of training session, and where.

crate::text_enum! {
    pub enum TrainingKind {
        /// Naloxone awareness for anyone.
        Awareness = "awareness",
        /// Qualifies peers to supply kits.
        PeerSupplierCourse = "peer_supplier_course",
        /// Qualifies peer trainers.
        TrainTheTrainer = "train_the_trainer",
        Refresher = "refresher",
    }
}

crate::text_enum! {
    pub enum TrainingSetting {
        Hub = "hub",
        Outreach = "outreach",
        Prison = "prison",
        Hospital = "hospital",
        CommunityVenue = "community_venue",
        Online = "online",
        Other = "other",
    }
}
