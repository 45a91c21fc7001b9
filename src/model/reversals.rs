//! What an overdose reversal report says happened.

crate::text_enum! {
    pub enum Place {
        Home = "home",
        /// Someone else's home.
        OtherHome = "other_home",
        StreetOrPark = "street_or_park",
        /// Hostel or supported housing.
        Hostel = "hostel",
        PublicToilet = "public_toilet",
        HospitalGrounds = "hospital_grounds",
        PrisonOrCustody = "prison_or_custody",
        Other = "other",
    }
}

crate::text_enum! {
    /// Who gave the naloxone.
    pub enum AdministeredBy {
        ReportingPeer = "reporting_peer",
        /// Someone the peer had given a kit to.
        KitRecipient = "kit_recipient",
        FamilyFriend = "family_friend",
        ServiceWorker = "service_worker",
        Other = "other",
    }
}

crate::text_enum! {
    pub enum YesNoUnknown {
        Yes = "yes",
        No = "no",
        Unknown = "unknown",
    }
}

crate::text_enum! {
    pub enum Outcome {
        Survived = "survived",
        Died = "died",
        Unknown = "unknown",
    }
}
