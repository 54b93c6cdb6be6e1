//! Typed identifiers, so a county id can never be passed where a user id is meant.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id (UUIDv7), for rows whose creation time is not secret.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    };
}

id_type!(
    /// A county: the tenant.
    CountyId
);
id_type!(
    /// An org unit inside a county.
    OrgUnitId
);
id_type!(
    /// A user account.
    UserId
);
id_type!(
    /// A user's membership in one county.
    MembershipId
);
id_type!(
    /// A cohort of counties.
    CohortId
);
id_type!(
    /// A buddy pairing between two counties of a cohort.
    PairingId
);

id_type!(
    /// An instrument (the state's ORB assessment, a county's adaptation).
    InstrumentId
);
id_type!(
    /// One version of an instrument.
    InstrumentVersionId
);

id_type!(
    /// An administration (a wave of an instrument in one county).
    AdministrationId
);
id_type!(
    /// A single-use invitation code's record.
    InvitationId
);
id_type!(
    /// One respondent's response.
    ResponseId
);

id_type!(
    /// A key message of the state's library.
    KeyMessageId
);
id_type!(
    /// A county's adaptation of a key message.
    CountyKeyMessageId
);
id_type!(
    /// A message test: where a county tried which messages on whom.
    MessageTestId
);
id_type!(
    /// One message as used in one message test.
    TestMessageId
);

id_type!(
    /// A county's SO WHAT? planning matrix for one wave.
    PlanningMatrixId
);
id_type!(
    /// One action (row) of a planning matrix.
    PlanningActionId
);
id_type!(
    /// A county's testing profile for one cohort.
    TestingProfileId
);

/// Parses an id given by a caller, naming the field when it is not one.
pub fn parse_id<T: FromStr>(field: &str, raw: &str) -> Result<T, crate::Error> {
    raw.trim().parse().map_err(|_| crate::Error::invalid(field, "is not a valid id"))
}
