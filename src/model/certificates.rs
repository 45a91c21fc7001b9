//! What a certificate authorises, and where it stands.

crate::text_enum! {
    pub enum CertificateLevel {
        /// May hand out naloxone kits.
        PeerSupplier = "peer_supplier",
        /// May hand out kits and certify others.
        PeerTrainer = "peer_trainer",
    }
}

crate::text_enum! {
    pub enum CertificateStatus {
        Valid = "valid",
        Expired = "expired",
        Revoked = "revoked",
        /// Would be valid, but its holder's account is deactivated: it
        /// authorises nothing, and is valid again if they are reactivated.
        Suspended = "suspended",
    }
}
