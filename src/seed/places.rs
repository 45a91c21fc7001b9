//! The places and organisations of the demo world, after the seed
//! documents: the nations, health boards or regions, ADPs or local
//! authorities, and the hubs, LEROs and services in them.

use crate::model::reference::OrganisationKind;

pub struct NationSpec {
    pub name: &'static str,
    pub boards: &'static [BoardSpec],
}

/// A health board (Scotland), area planning board (Wales) or region (England).
pub struct BoardSpec {
    pub name: &'static str,
    pub places: &'static [PlaceSpec],
}

/// An ADP or local authority: where records are made.
pub struct PlaceSpec {
    pub name: &'static str,
    pub population_at_risk: i32,
    pub districts: &'static [&'static str],
    pub organisations: &'static [OrgSpec],
}

pub struct OrgSpec {
    pub name: &'static str,
    pub kind: OrganisationKind,
    /// Share of the handouts.
    pub weight: u32,
    /// When it opened, as a fraction of the years seeded (0: from the start).
    pub opens_at: f64,
}

const fn org(name: &'static str, kind: OrganisationKind, weight: u32, opens_at: f64) -> OrgSpec {
    OrgSpec { name, kind, weight, opens_at }
}

use OrganisationKind as K;

pub const WORLD: &[NationSpec] = &[
    NationSpec {
        name: "Scotland",
        boards: &[
            BoardSpec {
                name: "NHS Ayrshire and Arran",
                places: &[
                    PlaceSpec {
                        name: "East Ayrshire ADP",
                        population_at_risk: 2100,
                        districts: &["KA1", "KA2", "KA3", "KA4", "KA5", "KA16", "KA17", "KA18"],
                        organisations: &[
                            org("EACH Recovery Matters Hub, Kilmarnock", K::RecoveryHub, 10, 0.0),
                            org("EACH Recovery Matters Crew (outreach)", K::OutreachTeam, 6, 0.1),
                            org("HMP Kilmarnock", K::Prison, 2, 0.0),
                            org("University Hospital Crosshouse", K::Hospital, 2, 0.0),
                            org("John Finnie Street Pharmacy, Kilmarnock", K::Pharmacy, 2, 0.0),
                        ],
                    },
                    PlaceSpec {
                        name: "North Ayrshire ADP",
                        population_at_risk: 2600,
                        districts: &["KA11", "KA12", "KA13", "KA20", "KA21", "KA22", "KA23", "KA24", "KA25", "KA30"],
                        organisations: &[
                            org("North Ayrshire Recovery Hub, Irvine", K::RecoveryHub, 7, 0.0),
                            org("North Ayrshire Drug and Alcohol Recovery Service", K::DrugService, 4, 0.0),
                        ],
                    },
                    PlaceSpec {
                        name: "South Ayrshire ADP",
                        population_at_risk: 1700,
                        districts: &["KA6", "KA7", "KA8", "KA9", "KA10", "KA19", "KA26"],
                        organisations: &[
                            org("South Ayrshire Recovery Hub, Ayr", K::RecoveryHub, 6, 0.0),
                            org("University Hospital Ayr", K::Hospital, 2, 0.0),
                        ],
                    },
                ],
            },
            BoardSpec {
                name: "NHS Shetland",
                places: &[PlaceSpec {
                    name: "Shetland ADP",
                    population_at_risk: 800,
                    districts: &["ZE1", "ZE2", "ZE3"],
                    organisations: &[
                        org("Shetland Recovery Hub and Community Network", K::RecoveryHub, 3, 0.0),
                        org("Shetland Lived and Living Experience Recovery Network (LLERN)", K::Lero, 1, 0.55),
                        org("Shetland Community Nursing Outreach (ANP)", K::OutreachTeam, 1, 0.6),
                        org("Gilbert Bain Hospital, Lerwick", K::Hospital, 1, 0.0),
                    ],
                }],
            },
        ],
    },
    NationSpec {
        name: "Wales",
        boards: &[
            BoardSpec {
                name: "Cardiff and Vale Area Planning Board",
                places: &[
                    PlaceSpec {
                        name: "Cardiff",
                        population_at_risk: 3800,
                        districts: &["CF3", "CF5", "CF10", "CF11", "CF14", "CF23", "CF24"],
                        organisations: &[
                            org("Cardiff Peer-to-Peer Naloxone Project", K::Lero, 8, 0.0),
                            org("Cardiff Street Outreach Team", K::OutreachTeam, 6, 0.0),
                            org("HMP Cardiff (through the gate)", K::Prison, 3, 0.0),
                            org("University Hospital of Wales (peer in-reach)", K::Hospital, 2, 0.2),
                        ],
                    },
                    PlaceSpec {
                        name: "Vale of Glamorgan",
                        population_at_risk: 1100,
                        districts: &["CF61", "CF62", "CF63", "CF64", "CF71"],
                        organisations: &[
                            org("Vale Community Drug and Alcohol Team, Barry", K::DrugService, 3, 0.0),
                            org("Barry Community Pharmacy", K::Pharmacy, 2, 0.0),
                        ],
                    },
                ],
            },
            BoardSpec {
                name: "Swansea Bay Area Planning Board",
                places: &[
                    PlaceSpec {
                        name: "Swansea",
                        population_at_risk: 3000,
                        districts: &["SA1", "SA2", "SA4", "SA5", "SA6", "SA7"],
                        organisations: &[
                            org("Swansea Peer-to-Peer Naloxone Network", K::Lero, 7, 0.0),
                            org("HMP Swansea (through the gate)", K::Prison, 3, 0.0),
                            org("Morriston Hospital (peer in-reach)", K::Hospital, 2, 0.0),
                        ],
                    },
                    PlaceSpec {
                        name: "Neath Port Talbot",
                        population_at_risk: 1600,
                        districts: &["SA8", "SA10", "SA11", "SA12", "SA13"],
                        organisations: &[
                            org("Neath Port Talbot Substance Misuse Service", K::DrugService, 4, 0.0),
                            org("Port Talbot Outreach Team", K::OutreachTeam, 3, 0.0),
                        ],
                    },
                ],
            },
        ],
    },
    NationSpec {
        name: "England",
        boards: &[
            BoardSpec {
                name: "North East",
                places: &[
                    PlaceSpec {
                        name: "Middlesbrough",
                        population_at_risk: 3200,
                        districts: &["TS1", "TS3", "TS4", "TS5", "TS6", "TS7"],
                        organisations: &[
                            org("Recovery Connections, Middlesbrough", K::Lero, 9, 0.0),
                            org("Recovery Connections Community Café", K::Other, 2, 0.2),
                            org("James Cook University Hospital (peer in-reach)", K::Hospital, 2, 0.0),
                        ],
                    },
                    PlaceSpec {
                        name: "Stockton-on-Tees",
                        population_at_risk: 2300,
                        districts: &["TS17", "TS18", "TS19", "TS20", "TS21"],
                        organisations: &[
                            org("Recovery Connections, Stockton", K::Lero, 6, 0.0),
                            org("HMP Holme House (through the gate)", K::Prison, 3, 0.0),
                        ],
                    },
                    PlaceSpec {
                        name: "Darlington",
                        population_at_risk: 1300,
                        districts: &["DL1", "DL2", "DL3"],
                        organisations: &[org("Recovery Connections, Darlington", K::Lero, 4, 0.0)],
                    },
                    PlaceSpec {
                        name: "Gateshead",
                        population_at_risk: 2000,
                        districts: &["NE8", "NE9", "NE10", "NE11"],
                        organisations: &[org("Recovery Connections, Gateshead", K::Lero, 4, 0.0)],
                    },
                    PlaceSpec {
                        name: "Sunderland",
                        population_at_risk: 2900,
                        districts: &["SR1", "SR2", "SR3", "SR4", "SR5"],
                        organisations: &[org("Recovery Connections, Sunderland", K::Lero, 5, 0.0)],
                    },
                ],
            },
            BoardSpec {
                name: "South East",
                places: &[PlaceSpec {
                    name: "Kent",
                    population_at_risk: 4000,
                    districts: &["CT1", "CT9", "CT20", "DA1", "ME4", "ME14", "ME15", "TN9", "TN23"],
                    organisations: &[
                        org("Kent Lived Experience Recovery Organisation", K::Lero, 6, 0.7),
                        org("Turning Point Kent", K::DrugService, 6, 0.0),
                        org("Kent Outreach Team", K::OutreachTeam, 3, 0.0),
                    ],
                }],
            },
            BoardSpec {
                name: "West Midlands",
                places: &[PlaceSpec {
                    name: "Birmingham",
                    population_at_risk: 4000,
                    districts: &["B1", "B5", "B6", "B10", "B11", "B12", "B19", "B21"],
                    organisations: &[
                        org("Dear Albert", K::Lero, 7, 0.0),
                        org("Turning Point Birmingham", K::DrugService, 7, 0.0),
                        org("Birmingham Street Outreach Team", K::OutreachTeam, 4, 0.0),
                    ],
                }],
            },
        ],
    },
];

pub const FIRST_NAMES: &[&str] = &[
    "Alex", "Ailsa", "Andy", "Bethan", "Callum", "Carys", "Chris", "Dai", "Danielle", "Darren", "Dot", "Eilidh",
    "Fiona", "Gareth", "Gemma", "Hamish", "Iona", "Jamie", "Jo", "Kerry", "Kirsty", "Lee", "Lewis", "Lindsay", "Mark",
    "Megan", "Morag", "Nia", "Paul", "Rhys", "Robbie", "Ross", "Sam", "Sian", "Stacey", "Steph", "Stuart", "Tam",
    "Tracy", "Wayne",
];
