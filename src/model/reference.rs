//! The kinds of reference data: organisations and products.

crate::text_enum! {
    pub enum OrganisationKind {
        RecoveryHub = "recovery_hub",
        /// Lived-experience recovery organisation.
        Lero = "lero",
        DrugService = "drug_service",
        Pharmacy = "pharmacy",
        Prison = "prison",
        Hospital = "hospital",
        OutreachTeam = "outreach_team",
        Other = "other",
    }
}

crate::text_enum! {
    pub enum Route {
        Intramuscular = "intramuscular",
        Intranasal = "intranasal",
    }
}
