//! What a kit handout says about where, how and to whom.

crate::text_enum! {
    pub enum KitSetting {
        Outreach = "outreach",
        HubDropIn = "hub_drop_in",
        HomeVisit = "home_visit",
        HospitalInReach = "hospital_in_reach",
        PrisonRelease = "prison_release",
        Pharmacy = "pharmacy",
        Event = "event",
        Other = "other",
    }
}

crate::text_enum! {
    pub enum RecipientType {
        PersonAtRisk = "person_at_risk",
        FamilyFriend = "family_friend",
        ServiceWorker = "service_worker",
        Unknown = "unknown",
    }
}

crate::text_enum! {
    pub enum Supply {
        First = "first",
        Repeat = "repeat",
    }
}

crate::text_enum! {
    pub enum RepeatReason {
        UsedOnOverdose = "used_on_overdose",
        Lost = "lost",
        Stolen = "stolen",
        Confiscated = "confiscated",
        Expired = "expired",
        Damaged = "damaged",
        Other = "other",
    }
}

crate::text_enum! {
    pub enum AgeBand {
        Under18 = "under_18",
        From18To24 = "18_to_24",
        From25To34 = "25_to_34",
        From35To44 = "35_to_44",
        From45To54 = "45_to_54",
        From55To64 = "55_to_64",
        From65 = "65_or_over",
    }
}

crate::text_enum! {
    pub enum Gender {
        Female = "female",
        Male = "male",
        NonBinary = "non_binary",
        Other = "other",
        NotStated = "not_stated",
    }
}
