-- Foundation: tenancy (counties, org units), people (users, memberships, global roles),
-- the state's cohorts and buddy pairings, refresh tokens and the append-only audit log,
-- and the row-level security that walls each county off from the others.
--
-- The service's runtime role `orb_app` owns nothing, is not superuser and has no BYPASSRLS.
-- Every request runs in one transaction in which the service sets, with
-- set_config(name, value, true), who is asking:
--   orb.user_id           the caller's user id
--   orb.global_roles      comma list of 'faculty', 'admin'
--   orb.member_counties   counties where the caller holds any membership
--   orb.lead_counties     counties where the caller is the lead
--   orb.partner_counties  counties paired with one of the caller's counties by an active buddy pairing
-- An absent or empty setting means no access.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'orb_app') THEN
        CREATE ROLE orb_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
END
$$;

CREATE SCHEMA orb;
GRANT USAGE ON SCHEMA orb TO orb_app;

-- Tenant settings, read as typed values. STABLE (never VOLATILE), so policies may call them.
CREATE FUNCTION orb.setting_uuids(name text) RETURNS uuid[]
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog
AS $$
    SELECT coalesce(string_to_array(nullif(current_setting(name, true), ''), ',')::uuid[], '{}'::uuid[])
$$;

CREATE FUNCTION orb.user_id() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog
AS $$ SELECT nullif(current_setting('orb.user_id', true), '')::uuid $$;

CREATE FUNCTION orb.member_counties() RETURNS uuid[]
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog
AS $$ SELECT orb.setting_uuids('orb.member_counties') $$;

CREATE FUNCTION orb.lead_counties() RETURNS uuid[]
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog
AS $$ SELECT orb.setting_uuids('orb.lead_counties') $$;

CREATE FUNCTION orb.partner_counties() RETURNS uuid[]
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog
AS $$ SELECT orb.setting_uuids('orb.partner_counties') $$;

CREATE FUNCTION orb.has_global_role(role text) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog
AS $$ SELECT role = ANY (string_to_array(nullif(current_setting('orb.global_roles', true), ''), ',')) $$;

-- Signed in: a user, or the operator's own tools (which act with global roles and no user).
CREATE FUNCTION orb.is_authenticated() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog
AS $$ SELECT orb.user_id() IS NOT NULL OR coalesce(current_setting('orb.global_roles', true), '') <> '' $$;

-- Counties: the tenants. Their public facts are readable by every signed-in user;
-- only an operator creates or edits them.
CREATE TABLE counties (
    id           uuid PRIMARY KEY,
    slug         text NOT NULL UNIQUE CHECK (slug ~ '^[a-z][a-z0-9]*(-[a-z0-9]+)*$' AND length(slug) <= 64),
    name         text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    region       text NOT NULL CHECK (region IN ('BAY_AREA', 'CENTRAL', 'LOS_ANGELES', 'NORTHERN', 'SOUTHERN')),
    size_class   text NOT NULL CHECK (size_class IN ('SMALL', 'MEDIUM', 'LARGE', 'VERY_LARGE')),
    staff_count  integer CHECK (staff_count >= 0),
    created_at   timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE counties ENABLE ROW LEVEL SECURITY;
ALTER TABLE counties FORCE ROW LEVEL SECURITY;
CREATE POLICY counties_read ON counties FOR SELECT USING (orb.is_authenticated());
CREATE POLICY counties_insert ON counties FOR INSERT WITH CHECK (orb.has_global_role('admin'));
CREATE POLICY counties_update ON counties FOR UPDATE
    USING (orb.has_global_role('admin')) WITH CHECK (orb.has_global_role('admin'));

-- Org units: the optional hierarchy inside a county (division, office, unit).
-- The parent key includes county_id, so a unit can never hang under another county's unit.
CREATE TABLE org_units (
    county_id    uuid NOT NULL REFERENCES counties (id),
    id           uuid NOT NULL,
    parent_id    uuid,
    name         text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    kind         text NOT NULL CHECK (kind IN ('DIVISION', 'OFFICE', 'SECTION', 'UNIT', 'TEAM', 'OTHER')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county_id, id),
    UNIQUE (id),
    FOREIGN KEY (county_id, parent_id) REFERENCES org_units (county_id, id),
    CHECK (parent_id IS DISTINCT FROM id)
);
CREATE UNIQUE INDEX org_units_sibling_names ON org_units (county_id, parent_id, lower(name)) NULLS NOT DISTINCT;
ALTER TABLE org_units ENABLE ROW LEVEL SECURITY;
ALTER TABLE org_units FORCE ROW LEVEL SECURITY;
CREATE POLICY org_units_read ON org_units FOR SELECT USING (
    county_id = ANY (orb.member_counties())
    OR orb.has_global_role('faculty')
    OR orb.has_global_role('admin'));
CREATE POLICY org_units_insert ON org_units FOR INSERT WITH CHECK (county_id = ANY (orb.lead_counties()));
CREATE POLICY org_units_update ON org_units FOR UPDATE
    USING (county_id = ANY (orb.lead_counties())) WITH CHECK (county_id = ANY (orb.lead_counties()));
CREATE POLICY org_units_delete ON org_units FOR DELETE USING (county_id = ANY (orb.lead_counties()));

-- Users: accounts of staff, leads, faculty and operators. Respondents have none.
-- The runtime role may not read password hashes: login reads one through
-- orb.login_credentials(). RLS is enabled but not forced so that function, owned by
-- the table owner, can look an email up before anyone is known.
CREATE TABLE users (
    id             uuid PRIMARY KEY,
    email          text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
    display_name   text NOT NULL CHECK (length(btrim(display_name)) BETWEEN 1 AND 200),
    password_hash  text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    disabled_at    timestamptz
);
CREATE UNIQUE INDEX users_email ON users (email);
ALTER TABLE users ENABLE ROW LEVEL SECURITY;

-- Global roles held outside any county.
CREATE TABLE user_global_roles (
    user_id      uuid NOT NULL REFERENCES users (id),
    role         text NOT NULL CHECK (role IN ('faculty', 'admin')),
    granted_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, role)
);
ALTER TABLE user_global_roles ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_global_roles FORCE ROW LEVEL SECURITY;
CREATE POLICY user_global_roles_read ON user_global_roles FOR SELECT USING (
    user_id = orb.user_id() OR orb.has_global_role('admin'));
CREATE POLICY user_global_roles_insert ON user_global_roles FOR INSERT WITH CHECK (orb.has_global_role('admin'));
CREATE POLICY user_global_roles_delete ON user_global_roles FOR DELETE USING (orb.has_global_role('admin'));

-- Memberships: a user's role in one county. A lead manages staff memberships of their
-- own county; only an operator makes or removes leads.
CREATE TABLE memberships (
    county_id    uuid NOT NULL REFERENCES counties (id),
    id           uuid NOT NULL,
    user_id      uuid NOT NULL REFERENCES users (id),
    role         text NOT NULL CHECK (role IN ('staff', 'lead')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (county_id, id),
    UNIQUE (id),
    UNIQUE (county_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);
ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY memberships_read ON memberships FOR SELECT USING (
    user_id = orb.user_id()
    OR county_id = ANY (orb.lead_counties())
    OR orb.has_global_role('admin'));
CREATE POLICY memberships_insert ON memberships FOR INSERT WITH CHECK (
    orb.has_global_role('admin')
    OR (county_id = ANY (orb.lead_counties()) AND role = 'staff'));
CREATE POLICY memberships_update ON memberships FOR UPDATE
    USING (orb.has_global_role('admin'))
    WITH CHECK (orb.has_global_role('admin'));
CREATE POLICY memberships_delete ON memberships FOR DELETE USING (
    orb.has_global_role('admin')
    OR (county_id = ANY (orb.lead_counties()) AND role = 'staff'));

-- Cohorts: state initiatives grouping counties for a period, with their faculty.
CREATE TABLE cohorts (
    id           uuid PRIMARY KEY,
    name         text NOT NULL UNIQUE CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    starts_on    date,
    ends_on      date,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on)
);
ALTER TABLE cohorts ENABLE ROW LEVEL SECURITY;
ALTER TABLE cohorts FORCE ROW LEVEL SECURITY;
CREATE POLICY cohorts_read ON cohorts FOR SELECT USING (orb.is_authenticated());
CREATE POLICY cohorts_write ON cohorts FOR ALL
    USING (orb.has_global_role('faculty')) WITH CHECK (orb.has_global_role('faculty'));

CREATE TABLE cohort_counties (
    county_id    uuid NOT NULL REFERENCES counties (id),
    cohort_id    uuid NOT NULL REFERENCES cohorts (id),
    joined_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cohort_id, county_id)
);
CREATE INDEX cohort_counties_county ON cohort_counties (county_id);
ALTER TABLE cohort_counties ENABLE ROW LEVEL SECURITY;
ALTER TABLE cohort_counties FORCE ROW LEVEL SECURITY;
CREATE POLICY cohort_counties_read ON cohort_counties FOR SELECT USING (orb.is_authenticated());
CREATE POLICY cohort_counties_write ON cohort_counties FOR ALL
    USING (orb.has_global_role('faculty')) WITH CHECK (orb.has_global_role('faculty'));

CREATE TABLE cohort_faculty (
    cohort_id    uuid NOT NULL REFERENCES cohorts (id),
    user_id      uuid NOT NULL REFERENCES users (id),
    joined_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cohort_id, user_id)
);
ALTER TABLE cohort_faculty ENABLE ROW LEVEL SECURITY;
ALTER TABLE cohort_faculty FORCE ROW LEVEL SECURITY;
CREATE POLICY cohort_faculty_read ON cohort_faculty FOR SELECT USING (orb.is_authenticated());
CREATE POLICY cohort_faculty_write ON cohort_faculty FOR ALL
    USING (orb.has_global_role('faculty')) WITH CHECK (orb.has_global_role('faculty'));

-- Buddy pairings: a testing county and its buddy inside one cohort. Both must belong to the
-- cohort (the foreign keys say so). While active, each side may read the other's aggregates.
CREATE TABLE buddy_pairings (
    id                 uuid PRIMARY KEY,
    cohort_id          uuid NOT NULL,
    testing_county_id  uuid NOT NULL,
    buddy_county_id    uuid NOT NULL,
    status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
    created_at         timestamptz NOT NULL DEFAULT now(),
    ended_at           timestamptz,
    CHECK (testing_county_id <> buddy_county_id),
    CHECK ((status = 'ended') = (ended_at IS NOT NULL)),
    FOREIGN KEY (cohort_id, testing_county_id) REFERENCES cohort_counties (cohort_id, county_id),
    FOREIGN KEY (cohort_id, buddy_county_id) REFERENCES cohort_counties (cohort_id, county_id)
);
CREATE UNIQUE INDEX buddy_pairings_one_active
    ON buddy_pairings (cohort_id, testing_county_id, buddy_county_id) WHERE status = 'active';
CREATE INDEX buddy_pairings_testing ON buddy_pairings (testing_county_id) WHERE status = 'active';
CREATE INDEX buddy_pairings_buddy ON buddy_pairings (buddy_county_id) WHERE status = 'active';
ALTER TABLE buddy_pairings ENABLE ROW LEVEL SECURITY;
ALTER TABLE buddy_pairings FORCE ROW LEVEL SECURITY;
CREATE POLICY buddy_pairings_read ON buddy_pairings FOR SELECT USING (orb.is_authenticated());
CREATE POLICY buddy_pairings_insert ON buddy_pairings FOR INSERT WITH CHECK (orb.has_global_role('faculty'));
CREATE POLICY buddy_pairings_update ON buddy_pairings FOR UPDATE
    USING (orb.has_global_role('faculty')) WITH CHECK (orb.has_global_role('faculty'));

-- Users are visible to themselves, operators, the leads of counties they belong to,
-- and everyone when they serve as a cohort's faculty.
CREATE POLICY users_read ON users FOR SELECT USING (
    id = orb.user_id()
    OR orb.has_global_role('admin')
    OR EXISTS (SELECT 1 FROM memberships m
               WHERE m.user_id = users.id AND m.county_id = ANY (orb.lead_counties()))
    OR (orb.is_authenticated() AND EXISTS (SELECT 1 FROM cohort_faculty f WHERE f.user_id = users.id)));
CREATE POLICY users_insert ON users FOR INSERT WITH CHECK (orb.has_global_role('admin'));
CREATE POLICY users_update ON users FOR UPDATE
    USING (id = orb.user_id() OR orb.has_global_role('admin'))
    WITH CHECK (id = orb.user_id() OR orb.has_global_role('admin'));

-- Refresh tokens: stored only as SHA-256 hashes, rotated on every use. A family is one login;
-- presenting a used token again revokes the whole family.
CREATE TABLE refresh_tokens (
    id           uuid PRIMARY KEY,
    family_id    uuid NOT NULL,
    user_id      uuid NOT NULL REFERENCES users (id),
    token_hash   bytea NOT NULL UNIQUE,
    issued_at    timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
CREATE POLICY refresh_tokens_own ON refresh_tokens FOR ALL
    USING (user_id = orb.user_id()) WITH CHECK (user_id = orb.user_id());

-- The audit log: who did what, in which county, when, in which request. Append-only.
CREATE TABLE audit_log (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at      timestamptz NOT NULL DEFAULT now(),
    actor_user_id    uuid REFERENCES users (id),
    county_id        uuid REFERENCES counties (id),
    action           text NOT NULL,
    subject_type     text NOT NULL,
    subject_id       text,
    request_id       text,
    details          jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_county ON audit_log (county_id, id);
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_log_read ON audit_log FOR SELECT USING (
    orb.has_global_role('admin') OR county_id = ANY (orb.lead_counties()));
CREATE POLICY audit_log_append ON audit_log FOR INSERT WITH CHECK (
    actor_user_id IS NOT DISTINCT FROM orb.user_id());

CREATE FUNCTION orb.refuse_audit_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog
AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION orb.refuse_audit_change();

-- The one way to read a password hash: by email, for login, before anyone is known.
CREATE FUNCTION orb.login_credentials(login_email text)
    RETURNS TABLE (user_id uuid, password_hash text, disabled boolean)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
    SELECT u.id, u.password_hash, u.disabled_at IS NOT NULL
    FROM public.users u WHERE u.email = lower(login_email)
$$;

-- Find an account by email without being able to list accounts (a lead adding a staff
-- member, faculty adding a colleague to a cohort). Returns only the id.
CREATE FUNCTION orb.user_id_by_email(lookup_email text) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
    SELECT u.id FROM public.users u
    WHERE u.email = lower(lookup_email) AND orb.is_authenticated()
$$;

-- Find a refresh token by its hash, before its user is known.
CREATE FUNCTION orb.refresh_token_by_hash(hash bytea)
    RETURNS TABLE (id uuid, family_id uuid, user_id uuid, expires_at timestamptz,
                   used_at timestamptz, revoked_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
    SELECT t.id, t.family_id, t.user_id, t.expires_at, t.used_at, t.revoked_at
    FROM public.refresh_tokens t WHERE t.token_hash = hash
$$;

REVOKE ALL ON FUNCTION orb.login_credentials(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION orb.user_id_by_email(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION orb.refresh_token_by_hash(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orb.login_credentials(text) TO orb_app;
GRANT EXECUTE ON FUNCTION orb.user_id_by_email(text) TO orb_app;
GRANT EXECUTE ON FUNCTION orb.refresh_token_by_hash(bytea) TO orb_app;

-- What the runtime role may do. Nothing more: the audit log takes appends only and password
-- hashes can be written but never read back.
GRANT SELECT, INSERT, UPDATE ON counties TO orb_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON org_units TO orb_app;
GRANT SELECT (id, email, display_name, created_at, disabled_at) ON users TO orb_app;
GRANT INSERT (id, email, display_name, password_hash), UPDATE (display_name, password_hash, disabled_at) ON users TO orb_app;
GRANT SELECT, INSERT, DELETE ON user_global_roles TO orb_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON memberships TO orb_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON cohorts, cohort_counties, cohort_faculty TO orb_app;
GRANT SELECT, INSERT, UPDATE ON buddy_pairings TO orb_app;
GRANT SELECT, INSERT, UPDATE ON refresh_tokens TO orb_app;
GRANT SELECT, INSERT ON audit_log TO orb_app;
GRANT SELECT ON seaql_migrations TO orb_app;
