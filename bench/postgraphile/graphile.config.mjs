// PostGraphile 5 preset for the side-by-side benchmark with orb (issue #8). Not part of orb:
// it serves the same database so the load driver can compare a nested read and an insert.
//
// It connects as whatever role DATABASE_URL names; give it orb's runtime role (orb_app) so the
// same row-level security applies. Each request sets the transaction-local `orb.*` settings
// the policies read from `x-orb-*` headers (see README.md): the headers are trusted as sent,
// as a token's claims would be after verification. Without headers a request sees nothing.
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

/** The settings orb's policies read (crates/store/src/session.rs), by header. */
const SETTINGS = [
  "user_id",
  "global_roles",
  "member_counties",
  "lead_counties",
  "partner_counties",
  "respondent_response",
  "respondent_administration",
  "respondent_county",
  "respondent_invitation",
];

/** `orb.*` settings from the request's `x-orb-*` headers; every one is set (empty when absent). */
function pgSettingsFrom(headers) {
  const settings = {};
  for (const name of SETTINGS) {
    const value = headers?.[`x-orb-${name.replaceAll("_", "-")}`];
    settings[`orb.${name}`] = typeof value === "string" ? value : "";
  }
  return settings;
}

const port = Number(process.env.PORT ?? 5678);

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  // Amber hides relations and conditions no index starts with. responses' foreign key to its
  // administration is (county_id, administration_id) while its index is (administration_id,
  // status), which serves the nested read's query as well; without this plugin the
  // administration -> responses relation and the `status` condition are exposed.
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
      poolConfig: { max: Number(process.env.PGL_POOL_SIZE ?? 16) },
    }),
  ],
  grafast: {
    explain: false,
    context(requestContext, args) {
      const headers = requestContext.node?.req?.headers;
      return { pgSettings: { ...args.contextValue?.pgSettings, ...pgSettingsFrom(headers) } };
    },
  },
  grafserv: {
    host: "127.0.0.1",
    port,
    graphqlPath: "/graphql",
    graphiql: false,
    graphiqlOnGraphQLGET: false,
    graphqlOverGET: false,
    watch: false,
    maxRequestLength: 1048576,
  },
};

export default preset;
