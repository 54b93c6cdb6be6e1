-- Closing the loop: the SO WHAT? planning matrix and the county testing profiles.
--
-- A planning matrix belongs to a county and is linked to one administration (the wave it came
-- from). Its rows are actions per domain: what we learned, so what, now what, an owner (a member
-- of the county, checked by the service), a due date and a status. Every status change is kept
-- in planning_action_history, which is append-only (no UPDATE or DELETE is granted).
-- The county's members read the matrix; its active buddies and faculty read it too (the service
-- audits their reads and withholds the rows' notes from them); its lead writes.
--
-- A testing profile is a county's narrative for one cohort, in the seed's sections a–g, with a
-- status: DRAFT (the county's members), SHARED (also its active buddies and faculty), PUBLISHED
-- (every signed-in user). The county's lead writes it; the lead of the county paired with it as
-- buddy in that cohort writes the reflections (testing_profile_reflections). Every save is kept
-- in testing_profile_revisions (append-only), readable by whoever reads the profile.

CREATE TABLE planning_matrices (
    county_id          uuid NOT NULL REFERENCES counties (id),
    id                 uuid NOT NULL,
    administration_id  uuid NOT NULL,
    title              text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county_id, id),
    UNIQUE (id),
    UNIQUE (county_id, administration_id),
    FOREIGN KEY (county_id, administration_id) REFERENCES administrations (county_id, id)
);

CREATE TABLE planning_actions (
    county_id      uuid NOT NULL,
    id             uuid NOT NULL,
    matrix_id      uuid NOT NULL,
    domain         text NOT NULL CHECK (length(domain) BETWEEN 1 AND 64),
    learned        text NOT NULL CHECK (length(learned) BETWEEN 1 AND 4000),
    so_what        text NOT NULL CHECK (length(so_what) BETWEEN 1 AND 4000),
    now_what       text NOT NULL CHECK (length(now_what) BETWEEN 1 AND 4000),
    owner_user_id  uuid NOT NULL REFERENCES users (id),
    due_on         date,
    status         text NOT NULL DEFAULT 'PLANNED'
                       CHECK (status IN ('PLANNED', 'IN_PROGRESS', 'DONE', 'DROPPED')),
    notes          text CHECK (length(notes) <= 4000),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county_id, id),
    UNIQUE (id),
    FOREIGN KEY (county_id, matrix_id) REFERENCES planning_matrices (county_id, id) ON DELETE CASCADE
);
CREATE INDEX planning_actions_matrix ON planning_actions (county_id, matrix_id);

CREATE TABLE planning_action_history (
    county_id      uuid NOT NULL,
    id             bigint GENERATED ALWAYS AS IDENTITY,
    action_id      uuid NOT NULL,
    from_status    text CHECK (from_status IN ('PLANNED', 'IN_PROGRESS', 'DONE', 'DROPPED')),
    to_status      text NOT NULL CHECK (to_status IN ('PLANNED', 'IN_PROGRESS', 'DONE', 'DROPPED')),
    changed_by     uuid REFERENCES users (id),
    changed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county_id, id),
    FOREIGN KEY (county_id, action_id) REFERENCES planning_actions (county_id, id)
);
CREATE INDEX planning_action_history_action ON planning_action_history (county_id, action_id, id);

CREATE TABLE testing_profiles (
    county_id        uuid NOT NULL REFERENCES counties (id),
    id               uuid NOT NULL,
    cohort_id        uuid NOT NULL,
    status           text NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT', 'SHARED', 'PUBLISHED')),
    description      text CHECK (length(description) <= 8000),
    tested           text CHECK (length(tested) <= 8000),
    learned          text CHECK (length(learned) <= 8000),
    worked           text CHECK (length(worked) <= 8000),
    differently      text CHECK (length(differently) <= 8000),
    next_steps       text CHECK (length(next_steps) <= 8000),
    guidance         text CHECK (length(guidance) <= 8000),
    revision         integer NOT NULL DEFAULT 1 CHECK (revision >= 1),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county_id, id),
    UNIQUE (id),
    UNIQUE (county_id, cohort_id),
    FOREIGN KEY (cohort_id, county_id) REFERENCES cohort_counties (cohort_id, county_id)
);

-- The buddy county's reflections on a profile: one set per profile, written by the lead of the
-- county paired with the profile's county as its buddy in the profile's cohort.
CREATE TABLE testing_profile_reflections (
    county_id        uuid NOT NULL,
    profile_id       uuid NOT NULL,
    buddy_county_id  uuid NOT NULL REFERENCES counties (id),
    experience       text CHECK (length(experience) <= 8000),
    learned          text CHECK (length(learned) <= 8000),
    take_away        text CHECK (length(take_away) <= 8000),
    share            text CHECK (length(share) <= 8000),
    revision         integer NOT NULL DEFAULT 1 CHECK (revision >= 1),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county_id, profile_id),
    FOREIGN KEY (county_id, profile_id) REFERENCES testing_profiles (county_id, id),
    CHECK (buddy_county_id <> county_id)
);

-- Every save of a profile's sections or of its reflections, as saved, with who and when.
CREATE TABLE testing_profile_revisions (
    county_id          uuid NOT NULL,
    id                 bigint GENERATED ALWAYS AS IDENTITY,
    profile_id         uuid NOT NULL,
    part               text NOT NULL CHECK (part IN ('PROFILE', 'REFLECTIONS')),
    revision           integer NOT NULL CHECK (revision >= 1),
    written_by_county  uuid NOT NULL REFERENCES counties (id),
    saved_by           uuid REFERENCES users (id),
    saved_at           timestamptz NOT NULL DEFAULT now(),
    sections           jsonb NOT NULL,
    PRIMARY KEY (county_id, id),
    UNIQUE (county_id, profile_id, part, revision),
    FOREIGN KEY (county_id, profile_id) REFERENCES testing_profiles (county_id, id)
);

-- Row-level security.
ALTER TABLE planning_matrices ENABLE ROW LEVEL SECURITY;
ALTER TABLE planning_matrices FORCE ROW LEVEL SECURITY;
CREATE POLICY planning_matrices_read ON planning_matrices FOR SELECT USING (
    county_id = ANY (orb.member_counties())
    OR county_id = ANY (orb.partner_counties())
    OR orb.has_global_role('faculty'));
CREATE POLICY planning_matrices_write ON planning_matrices FOR ALL
    USING (county_id = ANY (orb.lead_counties())) WITH CHECK (county_id = ANY (orb.lead_counties()));

ALTER TABLE planning_actions ENABLE ROW LEVEL SECURITY;
ALTER TABLE planning_actions FORCE ROW LEVEL SECURITY;
CREATE POLICY planning_actions_read ON planning_actions FOR SELECT USING (
    county_id = ANY (orb.member_counties())
    OR county_id = ANY (orb.partner_counties())
    OR orb.has_global_role('faculty'));
CREATE POLICY planning_actions_write ON planning_actions FOR ALL
    USING (county_id = ANY (orb.lead_counties())) WITH CHECK (county_id = ANY (orb.lead_counties()));

ALTER TABLE planning_action_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE planning_action_history FORCE ROW LEVEL SECURITY;
CREATE POLICY planning_action_history_read ON planning_action_history FOR SELECT USING (
    county_id = ANY (orb.member_counties())
    OR county_id = ANY (orb.partner_counties())
    OR orb.has_global_role('faculty'));
CREATE POLICY planning_action_history_insert ON planning_action_history FOR INSERT
    WITH CHECK (county_id = ANY (orb.lead_counties()));

ALTER TABLE testing_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE testing_profiles FORCE ROW LEVEL SECURITY;
CREATE POLICY testing_profiles_read ON testing_profiles FOR SELECT USING (
    county_id = ANY (orb.member_counties())
    OR (status IN ('SHARED', 'PUBLISHED')
        AND (county_id = ANY (orb.partner_counties()) OR orb.has_global_role('faculty')))
    OR (status = 'PUBLISHED' AND orb.is_authenticated()));
CREATE POLICY testing_profiles_write ON testing_profiles FOR ALL
    USING (county_id = ANY (orb.lead_counties())) WITH CHECK (county_id = ANY (orb.lead_counties()));

ALTER TABLE testing_profile_reflections ENABLE ROW LEVEL SECURITY;
ALTER TABLE testing_profile_reflections FORCE ROW LEVEL SECURITY;
CREATE POLICY testing_profile_reflections_read ON testing_profile_reflections FOR SELECT USING (
    EXISTS (SELECT 1 FROM testing_profiles p
            WHERE p.county_id = testing_profile_reflections.county_id
              AND p.id = testing_profile_reflections.profile_id));
-- Reflections are written by the lead of a county paired with the profile's county.
CREATE POLICY testing_profile_reflections_write ON testing_profile_reflections FOR ALL
    USING (buddy_county_id = ANY (orb.lead_counties()) AND county_id = ANY (orb.partner_counties()))
    WITH CHECK (buddy_county_id = ANY (orb.lead_counties()) AND county_id = ANY (orb.partner_counties()));

ALTER TABLE testing_profile_revisions ENABLE ROW LEVEL SECURITY;
ALTER TABLE testing_profile_revisions FORCE ROW LEVEL SECURITY;
CREATE POLICY testing_profile_revisions_read ON testing_profile_revisions FOR SELECT USING (
    EXISTS (SELECT 1 FROM testing_profiles p
            WHERE p.county_id = testing_profile_revisions.county_id
              AND p.id = testing_profile_revisions.profile_id));
CREATE POLICY testing_profile_revisions_insert ON testing_profile_revisions FOR INSERT
    WITH CHECK (written_by_county = ANY (orb.lead_counties())
                AND (county_id = written_by_county OR county_id = ANY (orb.partner_counties())));

SELECT orb.let_owner_read('planning_matrices');
SELECT orb.let_owner_read('planning_actions');
SELECT orb.let_owner_read('planning_action_history');
SELECT orb.let_owner_read('testing_profiles');
SELECT orb.let_owner_read('testing_profile_reflections');
SELECT orb.let_owner_read('testing_profile_revisions');

GRANT SELECT, INSERT, UPDATE ON planning_matrices, planning_actions, testing_profiles,
    testing_profile_reflections TO orb_app;
GRANT SELECT, INSERT ON planning_action_history, testing_profile_revisions TO orb_app;
