//! sea-orm entities: one module per table, mirroring `migrations/sql`. Values are stored as the
//! domain's spellings; conversion to domain types happens in the query modules.
//!
//! `users` deliberately has no `password_hash` field: the runtime role cannot read that column.

#![allow(missing_docs)]

macro_rules! no_relations {
    () => {
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    };
}

pub mod counties {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "counties")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub slug: String,
        pub name: String,
        pub region: String,
        pub size_class: String,
        pub staff_count: Option<i32>,
        pub created_at: DateTimeWithTimeZone,
    }
    no_relations!();
}

pub mod org_units {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "org_units")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub county_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub parent_id: Option<Uuid>,
        pub name: String,
        pub kind: String,
        pub created_at: DateTimeWithTimeZone,
    }
    no_relations!();
}

pub mod users {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub email: String,
        pub display_name: String,
        pub created_at: DateTimeWithTimeZone,
        pub disabled_at: Option<DateTimeWithTimeZone>,
    }
    no_relations!();
}

pub mod user_global_roles {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "user_global_roles")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub role: String,
        pub granted_at: DateTimeWithTimeZone,
    }
    no_relations!();
}

pub mod memberships {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "memberships")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub county_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub user_id: Uuid,
        pub role: String,
        pub created_at: DateTimeWithTimeZone,
    }
    no_relations!();
}

pub mod cohorts {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cohorts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub name: String,
        pub starts_on: Option<Date>,
        pub ends_on: Option<Date>,
        pub created_at: DateTimeWithTimeZone,
    }
    no_relations!();
}

pub mod cohort_counties {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cohort_counties")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub cohort_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub county_id: Uuid,
        pub joined_at: DateTimeWithTimeZone,
    }
    no_relations!();
}

pub mod cohort_faculty {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cohort_faculty")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub cohort_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: Uuid,
        pub joined_at: DateTimeWithTimeZone,
    }
    no_relations!();
}

pub mod buddy_pairings {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "buddy_pairings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub cohort_id: Uuid,
        pub testing_county_id: Uuid,
        pub buddy_county_id: Uuid,
        pub status: String,
        pub created_at: DateTimeWithTimeZone,
        pub ended_at: Option<DateTimeWithTimeZone>,
    }
    no_relations!();
}

pub mod refresh_tokens {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "refresh_tokens")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub family_id: Uuid,
        pub user_id: Uuid,
        pub token_hash: Vec<u8>,
        pub issued_at: DateTimeWithTimeZone,
        pub expires_at: DateTimeWithTimeZone,
        pub used_at: Option<DateTimeWithTimeZone>,
        pub revoked_at: Option<DateTimeWithTimeZone>,
    }
    no_relations!();
}

pub mod audit_log {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_log")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub occurred_at: DateTimeWithTimeZone,
        pub actor_user_id: Option<Uuid>,
        pub county_id: Option<Uuid>,
        pub action: String,
        pub subject_type: String,
        pub subject_id: Option<String>,
        pub request_id: Option<String>,
        pub details: Json,
    }
    no_relations!();
}

pub mod instruments {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "instruments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub county_id: Option<Uuid>,
        pub key: String,
        pub name: String,
        pub created_at: DateTimeWithTimeZone,
    }
    no_relations!();
}

pub mod instrument_versions {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "instrument_versions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub instrument_id: Uuid,
        pub county_id: Option<Uuid>,
        pub number: i32,
        pub status: String,
        pub derived_from_id: Option<Uuid>,
        pub document: Json,
        pub created_at: DateTimeWithTimeZone,
        pub published_at: Option<DateTimeWithTimeZone>,
        pub retired_at: Option<DateTimeWithTimeZone>,
    }
    no_relations!();
}

pub mod administrations {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "administrations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub county_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub instrument_version_id: Uuid,
        pub title: String,
        pub status: String,
        pub opens_at: DateTimeWithTimeZone,
        pub closes_at: DateTimeWithTimeZone,
        pub perspectives: Vec<String>,
        pub languages: Vec<String>,
        pub anonymity: String,
        pub min_group_size: i32,
        pub open_link_hash: Option<Vec<u8>>,
        pub open_link_cap: Option<i32>,
        pub results_released_at: Option<DateTimeWithTimeZone>,
        pub created_at: DateTimeWithTimeZone,
        pub opened_at: Option<DateTimeWithTimeZone>,
        pub closed_at: Option<DateTimeWithTimeZone>,
        pub free_text_min_group_size: Option<i32>,
        pub share_free_text_with_buddies: bool,
        pub interim_cut_at: Option<DateTimeWithTimeZone>,
        pub raw_rows_read_at: Option<DateTimeWithTimeZone>,
    }
    no_relations!();
}

pub mod invitations {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "invitations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub county_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub administration_id: Uuid,
        pub batch_id: Uuid,
        pub code_hash: Vec<u8>,
        pub perspective: Option<String>,
        pub org_unit_id: Option<Uuid>,
        pub status: String,
        pub created_on: Date,
        pub revoked: bool,
    }
    no_relations!();
}

pub mod responses {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "responses")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub county_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub administration_id: Uuid,
        pub source: String,
        pub status: String,
        pub perspective: Option<String>,
        pub org_unit_id: Option<Uuid>,
        pub language: String,
        pub answers: Json,
        pub invitation_id: Option<Uuid>,
        pub submit_key: Option<String>,
        pub submit_fingerprint: Option<Vec<u8>>,
        pub started_on: Date,
        pub submitted_on: Option<Date>,
        pub submitted_at: Option<DateTimeWithTimeZone>,
    }
    no_relations!();
}

pub mod key_messages {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "key_messages")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub position: i32,
        pub theme: String,
        pub big_theme: String,
        pub details: Vec<String>,
        pub created_at: DateTimeWithTimeZone,
        pub updated_at: DateTimeWithTimeZone,
    }
    no_relations!();
}

pub mod county_key_messages {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "county_key_messages")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub county_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub key_message_id: Uuid,
        pub theme: String,
        pub big_theme: String,
        pub details: Vec<String>,
        pub created_at: DateTimeWithTimeZone,
        pub updated_at: DateTimeWithTimeZone,
    }
    no_relations!();
}

pub mod message_tests {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "message_tests")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub county_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub held_on: Date,
        pub audience: String,
        pub format: String,
        pub reached: Option<i32>,
        pub notes: Option<String>,
        pub code_hash: Option<Vec<u8>>,
        pub created_at: DateTimeWithTimeZone,
        pub updated_at: DateTimeWithTimeZone,
    }
    no_relations!();
}

pub mod message_test_messages {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "message_test_messages")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub county_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub message_test_id: Uuid,
        pub position: i32,
        pub key_message_id: Uuid,
        pub county_key_message_id: Option<Uuid>,
    }
    no_relations!();
}

pub mod message_feedback {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "message_feedback")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub county_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub message_test_id: Uuid,
        pub test_message_id: Uuid,
        pub source: String,
        pub user_id: Option<Uuid>,
        pub works: i16,
        pub clear: i16,
        pub promotes_conversation: i16,
        pub adaptable: i16,
        pub engaging: i16,
        pub comment: Option<String>,
        pub given_on: Date,
    }
    no_relations!();
}

pub mod planning_matrices {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "planning_matrices")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub county_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub administration_id: Uuid,
        pub title: String,
        pub created_at: DateTimeWithTimeZone,
        pub updated_at: DateTimeWithTimeZone,
    }
    no_relations!();
}

pub mod planning_actions {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "planning_actions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub county_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub matrix_id: Uuid,
        pub domain: String,
        pub learned: String,
        pub so_what: String,
        pub now_what: String,
        pub owner_user_id: Uuid,
        pub due_on: Option<Date>,
        pub status: String,
        pub notes: Option<String>,
        pub created_at: DateTimeWithTimeZone,
        pub updated_at: DateTimeWithTimeZone,
    }
    no_relations!();
}

pub mod planning_action_history {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "planning_action_history")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub county_id: Uuid,
        #[sea_orm(primary_key)]
        pub id: i64,
        pub action_id: Uuid,
        pub from_status: Option<String>,
        pub to_status: String,
        pub changed_by: Option<Uuid>,
        pub changed_at: DateTimeWithTimeZone,
    }
    no_relations!();
}

pub mod testing_profiles {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "testing_profiles")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub county_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub cohort_id: Uuid,
        pub status: String,
        pub description: Option<String>,
        pub tested: Option<String>,
        pub learned: Option<String>,
        pub worked: Option<String>,
        pub differently: Option<String>,
        pub next_steps: Option<String>,
        pub guidance: Option<String>,
        pub revision: i32,
        pub created_at: DateTimeWithTimeZone,
        pub updated_at: DateTimeWithTimeZone,
    }
    no_relations!();
}

pub mod testing_profile_reflections {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "testing_profile_reflections")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub county_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub profile_id: Uuid,
        pub buddy_county_id: Uuid,
        pub experience: Option<String>,
        pub learned: Option<String>,
        pub take_away: Option<String>,
        pub share: Option<String>,
        pub revision: i32,
        pub created_at: DateTimeWithTimeZone,
        pub updated_at: DateTimeWithTimeZone,
    }
    no_relations!();
}

pub mod testing_profile_revisions {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "testing_profile_revisions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub county_id: Uuid,
        #[sea_orm(primary_key)]
        pub id: i64,
        pub profile_id: Uuid,
        pub part: String,
        pub revision: i32,
        pub written_by_county: Uuid,
        pub saved_by: Option<Uuid>,
        pub saved_at: DateTimeWithTimeZone,
        pub sections: Json,
    }
    no_relations!();
}
