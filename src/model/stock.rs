//! The movements of stock.

crate::text_enum! {
    /// What a coordinator does with stock.
    pub enum MovementKind {
        /// From the organisation's store to a peer.
        Allocate = "allocate",
        /// From a peer back to the store.
        Return = "return",
        /// Out of stock for good, from the store or from a peer.
        WriteOff = "write_off",
    }
}

crate::text_enum! {
    pub enum WriteOffReason {
        Expired = "expired",
        Damaged = "damaged",
        Recalled = "recalled",
        Lost = "lost",
    }
}

crate::text_enum! {
    /// Every kind of entry in the ledger.
    pub enum LedgerKind {
        Receive = "receive",
        Allocate = "allocate",
        Return = "return",
        WriteOff = "write_off",
        /// Kits handed out.
        Issue = "issue",
        /// A handout voided or corrected: its kits are back with the peer.
        IssueReversed = "issue_reversed",
    }
}
