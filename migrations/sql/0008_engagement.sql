-- Communication for engagement: the state's key messages, counties' adaptations of them,
-- message tests and the feedback given on each message.
--
-- Key messages are the state's library: readable by every signed-in user, written by faculty.
-- Adaptations belong to a county: read by its members, written by its lead, and always linked
-- to the state message they adapt. Message tests are read by the county's members, its active
-- buddies and faculty, written by its lead.
--
-- Feedback rows are read by nobody but their own author (a staff member revising it): readers of
-- a county's feedback get it through orb.message_feedback_feed, which checks the entitlement
-- itself, returns no ids, authors or times, and strips comments for anyone outside the county.
--
-- Attendees without an account give feedback through a test's code (only its hash is stored).
-- Once the service has resolved a code (orb.resolve_message_test_code), it sets
--   orb.feedback_test   the message test the code opens
-- for the rest of the request, which lets the attendee read that test's messages and add
-- feedback to it, and nothing else.

CREATE FUNCTION orb.feedback_test() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog
AS $$ SELECT nullif(current_setting('orb.feedback_test', true), '')::uuid $$;

CREATE TABLE key_messages (
    id          uuid PRIMARY KEY,
    position    integer NOT NULL UNIQUE CHECK (position >= 1),
    theme       text NOT NULL CHECK (length(btrim(theme)) BETWEEN 1 AND 200),
    big_theme   text NOT NULL CHECK (length(btrim(big_theme)) BETWEEN 1 AND 2000),
    details     text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE county_key_messages (
    county_id       uuid NOT NULL REFERENCES counties (id),
    id              uuid NOT NULL,
    key_message_id  uuid NOT NULL REFERENCES key_messages (id),
    theme           text NOT NULL CHECK (length(btrim(theme)) BETWEEN 1 AND 200),
    big_theme       text NOT NULL CHECK (length(btrim(big_theme)) BETWEEN 1 AND 2000),
    details         text[] NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county_id, id),
    UNIQUE (id),
    UNIQUE (county_id, id, key_message_id)
);
CREATE INDEX county_key_messages_state ON county_key_messages (key_message_id);

CREATE TABLE message_tests (
    county_id   uuid NOT NULL REFERENCES counties (id),
    id          uuid NOT NULL,
    held_on     date NOT NULL,
    audience    text NOT NULL CHECK (audience IN ('BOARD_OF_SUPERVISORS', 'EXECUTIVE_TEAM', 'MANAGERS',
                    'SUPERVISORS', 'LINE_STAFF', 'CLERICAL', 'COMMUNITY_PARTNERS', 'EDUCATORS',
                    'YOUTH_AND_FAMILIES', 'OTHER')),
    format      text NOT NULL CHECK (format IN ('PRESENTATION', 'DIALOGUE', 'VIDEO', 'ELEVATOR_SPEECH',
                    'FOCUS_GROUP', 'EMAIL', 'OTHER')),
    reached     integer CHECK (reached BETWEEN 0 AND 1000000),
    notes       text CHECK (length(notes) <= 4000),
    code_hash   bytea UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county_id, id),
    UNIQUE (id)
);
CREATE INDEX message_tests_county ON message_tests (county_id, held_on);

-- The messages a test used: a state message, or a county adaptation (with the state message it
-- adapts, so feedback always rolls up to a state theme).
CREATE TABLE message_test_messages (
    county_id              uuid NOT NULL,
    id                     uuid NOT NULL,
    message_test_id        uuid NOT NULL,
    position               integer NOT NULL CHECK (position >= 1),
    key_message_id         uuid NOT NULL REFERENCES key_messages (id),
    county_key_message_id  uuid,
    PRIMARY KEY (county_id, id),
    UNIQUE (id),
    UNIQUE (county_id, message_test_id, id),
    FOREIGN KEY (county_id, message_test_id) REFERENCES message_tests (county_id, id) ON DELETE CASCADE,
    FOREIGN KEY (county_id, county_key_message_id, key_message_id)
        REFERENCES county_key_messages (county_id, id, key_message_id)
);
CREATE UNIQUE INDEX message_test_messages_once ON message_test_messages
    (message_test_id, key_message_id, county_key_message_id) NULLS NOT DISTINCT;

CREATE TABLE message_feedback (
    county_id           uuid NOT NULL,
    id                  uuid NOT NULL,
    message_test_id     uuid NOT NULL,
    test_message_id     uuid NOT NULL,
    source              text NOT NULL CHECK (source IN ('staff', 'attendee')),
    user_id             uuid REFERENCES users (id),
    works               smallint NOT NULL CHECK (works BETWEEN 1 AND 5),
    clear               smallint NOT NULL CHECK (clear BETWEEN 1 AND 5),
    promotes_conversation smallint NOT NULL CHECK (promotes_conversation BETWEEN 1 AND 5),
    adaptable           smallint NOT NULL CHECK (adaptable BETWEEN 1 AND 5),
    engaging            smallint NOT NULL CHECK (engaging BETWEEN 1 AND 5),
    comment             text CHECK (length(comment) <= 2000),
    given_on            date NOT NULL DEFAULT current_date,
    PRIMARY KEY (county_id, id),
    UNIQUE (test_message_id, user_id),
    FOREIGN KEY (county_id, message_test_id, test_message_id)
        REFERENCES message_test_messages (county_id, message_test_id, id),
    CHECK ((source = 'staff') = (user_id IS NOT NULL))
);
CREATE INDEX message_feedback_test ON message_feedback (county_id, message_test_id);

-- Row-level security.
ALTER TABLE key_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE key_messages FORCE ROW LEVEL SECURITY;
CREATE POLICY key_messages_read ON key_messages FOR SELECT USING (
    orb.is_authenticated() OR orb.feedback_test() IS NOT NULL);
CREATE POLICY key_messages_write ON key_messages FOR ALL
    USING (orb.has_global_role('faculty')) WITH CHECK (orb.has_global_role('faculty'));

ALTER TABLE county_key_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE county_key_messages FORCE ROW LEVEL SECURITY;
CREATE POLICY county_key_messages_read ON county_key_messages FOR SELECT USING (
    county_id = ANY (orb.member_counties())
    OR id IN (SELECT m.county_key_message_id FROM message_test_messages m
              WHERE m.message_test_id = orb.feedback_test()));
CREATE POLICY county_key_messages_write ON county_key_messages FOR ALL
    USING (county_id = ANY (orb.lead_counties())) WITH CHECK (county_id = ANY (orb.lead_counties()));

ALTER TABLE message_tests ENABLE ROW LEVEL SECURITY;
ALTER TABLE message_tests FORCE ROW LEVEL SECURITY;
CREATE POLICY message_tests_read ON message_tests FOR SELECT USING (
    county_id = ANY (orb.member_counties())
    OR county_id = ANY (orb.partner_counties())
    OR orb.has_global_role('faculty')
    OR id = orb.feedback_test());
CREATE POLICY message_tests_write ON message_tests FOR ALL
    USING (county_id = ANY (orb.lead_counties())) WITH CHECK (county_id = ANY (orb.lead_counties()));

ALTER TABLE message_test_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE message_test_messages FORCE ROW LEVEL SECURITY;
CREATE POLICY message_test_messages_read ON message_test_messages FOR SELECT USING (
    county_id = ANY (orb.member_counties())
    OR county_id = ANY (orb.partner_counties())
    OR orb.has_global_role('faculty')
    OR message_test_id = orb.feedback_test());
CREATE POLICY message_test_messages_write ON message_test_messages FOR ALL
    USING (county_id = ANY (orb.lead_counties())) WITH CHECK (county_id = ANY (orb.lead_counties()));

-- Feedback: an author reads and revises their own; an attendee holding the test's code adds
-- (never reads); nobody else touches a row.
ALTER TABLE message_feedback ENABLE ROW LEVEL SECURITY;
ALTER TABLE message_feedback FORCE ROW LEVEL SECURITY;
CREATE POLICY message_feedback_author ON message_feedback FOR ALL
    USING (source = 'staff' AND user_id = orb.user_id())
    WITH CHECK (source = 'staff' AND user_id = orb.user_id() AND county_id = ANY (orb.member_counties()));
CREATE POLICY message_feedback_attendee ON message_feedback FOR INSERT
    WITH CHECK (source = 'attendee' AND user_id IS NULL AND message_test_id = orb.feedback_test());

-- Exchanging an attendee code: which test it opens, before anyone is known.
CREATE FUNCTION orb.resolve_message_test_code(hash bytea)
    RETURNS TABLE (county_id uuid, message_test_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
    SELECT t.county_id, t.id FROM public.message_tests t WHERE t.code_hash = hash
$$;

-- A county's feedback for aggregation: its members, its active buddies and faculty; comments
-- only for its members. No ids of feedback, no authors, no times.
CREATE FUNCTION orb.message_feedback_feed(county uuid)
    RETURNS TABLE (message_test_id uuid, test_message_id uuid, works smallint, clear smallint,
                   promotes_conversation smallint, adaptable smallint, engaging smallint, comment text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
    SELECT f.message_test_id, f.test_message_id, f.works, f.clear, f.promotes_conversation,
           f.adaptable, f.engaging,
           CASE WHEN county = ANY (orb.member_counties()) THEN f.comment END
    FROM public.message_feedback f
    WHERE f.county_id = county
      AND (county = ANY (orb.member_counties())
           OR county = ANY (orb.partner_counties())
           OR orb.has_global_role('faculty'))
$$;

REVOKE ALL ON FUNCTION orb.resolve_message_test_code(bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION orb.message_feedback_feed(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orb.resolve_message_test_code(bytea) TO orb_app;
GRANT EXECUTE ON FUNCTION orb.message_feedback_feed(uuid) TO orb_app;

GRANT SELECT, INSERT, UPDATE, DELETE ON key_messages, county_key_messages, message_tests, message_test_messages
    TO orb_app;
GRANT SELECT, INSERT, UPDATE ON message_feedback TO orb_app;
