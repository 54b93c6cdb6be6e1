//! CSV exports, streamed as they are read, never built whole in memory.
//!
//! - `GET /exports/administrations/{id}/responses.csv`: raw answers, one row per answer (tidy),
//!   for the county's lead only, audited. Respondents are numbered for the export only: no
//!   response id leaves the service (in anonymous mode an id derives from its code).
//! - `GET /exports/administrations/{id}/dictionary.csv`: what each column and item means.
//! - `GET /exports/administrations/{id}/results.csv`: the aggregates the caller may see, small
//!   groups withheld exactly as in GraphQL.
//!
//! Every line is written through [`crate::spreadsheet`], so no cell runs as a formula when a
//! lead opens the file in a spreadsheet.

use std::sync::Arc;

use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use futures::stream::{self, Stream, StreamExt};
use orb_domain::ids::AdministrationId;
use orb_domain::instrument::{InstrumentDocument, ItemKind};
use orb_domain::results::{GroupFigures, Released};
use orb_domain::scoring::Summary;
use orb_store::results::{RawFrom, RawReading};
use orb_store::{Caller, Store};

use crate::auth::caller_of;
use crate::auth::tokens::AccessTokens;
use crate::rest_error::RestError;
use crate::spreadsheet::{self, Cell, Columns};

/// What the export endpoints share.
pub struct ExportService {
    /// The runtime store.
    pub store: Store,
    /// Access token keys.
    pub tokens: Arc<AccessTokens>,
}

/// Rows read per page of a raw export.
const PAGE: u64 = 100;

fn administration_id(raw: &str) -> Result<AdministrationId, RestError> {
    orb_domain::ids::parse_id("id", raw).map_err(RestError::from)
}

fn signed_in(request: &HttpRequest, tokens: &AccessTokens) -> Result<Caller, RestError> {
    match caller_of(request, tokens)? {
        Caller::Anonymous => Err(RestError::unauthenticated("sign in to export")),
        Caller::Respondent(_) => {
            Err(RestError::from(orb_domain::Error::forbidden("a respondent token exports nothing")))
        }
        user => Ok(user),
    }
}

/// A line of text cells, each neutralised against spreadsheet formulas (see [`crate::spreadsheet`]).
fn csv_line(fields: &[String]) -> Bytes {
    spreadsheet::text_line(fields)
}

/// The columns of `responses.csv`: the respondent's number and the scores are numbers, and so is
/// an answer that is one (a Likert value, a number); free text and every other cell is text.
const RESPONSES: Columns = Columns(&[
    ("respondent", Cell::Number),
    ("perspective", Cell::Text),
    ("org_unit_id", Cell::Text),
    ("language", Cell::Text),
    ("submitted_on", Cell::Text),
    ("domain", Cell::Text),
    ("item", Cell::Text),
    ("concept", Cell::Text),
    ("kind", Cell::Text),
    ("answer", Cell::Number),
    ("scored", Cell::Number),
    ("score_0_100", Cell::Number),
]);

/// The columns of `results.csv`: the figures are numbers, everything else text.
const RESULTS: Columns = Columns(&[
    ("group_type", Cell::Text),
    ("group", Cell::Text),
    ("withheld", Cell::Text),
    ("level", Cell::Text),
    ("code", Cell::Text),
    ("n", Cell::Number),
    ("mean", Cell::Number),
    ("sd", Cell::Number),
    ("ci_low", Cell::Number),
    ("ci_high", Cell::Number),
    ("score_0_100", Cell::Number),
    ("alpha", Cell::Number),
    ("rwg_j", Cell::Number),
    ("low_agreement", Cell::Text),
    ("favourable", Cell::Number),
]);

fn csv_response(filename: &str, body: impl Stream<Item = Result<Bytes, actix_web::Error>> + 'static) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")))
        .streaming(body)
}

/// The answer as exported: Likert values and numbers as numbers, choices joined by `;`.
fn render(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items.iter().map(render).collect::<Vec<_>>().join(";"),
        other => other.to_string(),
    }
}

/// Checks the caller leads the administration's county and audits the export.
async fn open_raw_export(
    service: &ExportService,
    request: &HttpRequest,
    id: &str,
) -> Result<(Caller, AdministrationId, orb_store::instruments::VersionRecord, RawReading), RestError> {
    let caller = signed_in(request, &service.tokens)?;
    let administration = administration_id(id)?;
    let session = service.store.begin(caller, None).await?;
    let principal = session.principal().clone();
    let (_, version, reading) =
        orb_store::results::start_raw_export(&session, |county| principal.as_lead_of(county), administration).await?;
    session.commit().await?;
    Ok((caller, administration, version, reading))
}

struct RawExport {
    store: Store,
    caller: Caller,
    administration: AdministrationId,
    version: InstrumentDocument,
    reading: RawReading,
    after: RawFrom,
    respondents: u64,
    header: bool,
    done: bool,
}

/// Raw answers, one row per answer. The county's lead only; audited.
#[utoipa::path(get, path = "/exports/administrations/{id}/responses.csv", tag = "exports",
    params(("id" = String, Path, format = Uuid, description = "The administration (UUID)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Raw answers, one row per answer", content_type = "text/csv", body = String),
        (status = 400, description = "The id is not a UUID", body = crate::openapi::ErrorBody),
        (status = 401, description = "No valid bearer token", body = crate::openapi::ErrorBody),
        (status = 403, description = "Not allowed for this caller", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such administration for this caller", body = crate::openapi::ErrorBody),
    ))]
pub async fn responses(
    service: web::Data<ExportService>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, RestError> {
    let (caller, administration, version, reading) = open_raw_export(&service, &request, &id).await?;
    let state = RawExport {
        store: service.store.clone(),
        caller,
        administration,
        version: version.document,
        reading,
        after: RawFrom::Start,
        respondents: 0,
        header: false,
        done: false,
    };
    let body = stream::unfold(state, |mut state| async move {
        if state.done {
            return None;
        }
        if !state.header {
            state.header = true;
            return Some((Ok(RESPONSES.header()), state));
        }
        match next_page(&mut state).await {
            Ok(Some(bytes)) => Some((Ok(bytes), state)),
            Ok(None) => None,
            Err(err) => {
                tracing::error!(error = %err, "raw export stopped");
                state.done = true;
                Some((Err(actix_web::error::ErrorInternalServerError("export interrupted")), state))
            }
        }
    });
    Ok(csv_response("responses.csv", body))
}

async fn next_page(state: &mut RawExport) -> Result<Option<Bytes>, orb_store::StoreError> {
    let session = state.store.begin(state.caller, None).await?;
    let lead = {
        let administration = orb_store::collection::by_id(session.db(), state.administration)
            .await?
            .ok_or(orb_domain::Error::NotFound("administration"))?;
        session.principal().as_lead_of(orb_domain::ids::CountyId(administration.county_id))?
    };
    let page =
        orb_store::results::raw_page(&session, &lead, state.administration, &state.reading, state.after.clone(), PAGE)
            .await?;
    session.commit().await?;
    let Some(last) = page.last() else { return Ok(None) };
    state.after = RawFrom::after(last);
    let mut chunk = Vec::new();
    for response in &page {
        state.respondents += 1;
        for (item, answer) in state.version.answers_in_order(&response.answers) {
            let scale = state.version.scale_of(item).and_then(|s| orb_domain::scoring::ScaleShape::new(s.values()));
            let scored = match (&scale, answer.as_f64(), item.kind) {
                (Some(shape), Some(x), ItemKind::Likert) => Some(shape.scored(x, item.reverse_scored)),
                _ => None,
            };
            let row = [
                state.respondents.to_string(),
                response.shown.perspective.clone().unwrap_or_default(),
                response.shown.unit.map(|u| u.to_string()).unwrap_or_default(),
                response.shown.language.clone().unwrap_or_default(),
                response.submitted_on.map(|d| d.to_string()).unwrap_or_default(),
                item.domain.clone(),
                item.code.clone(),
                item.concept.clone().unwrap_or_default(),
                format!("{:?}", item.kind).to_uppercase(),
                render(answer),
                scored.map(|s| s.to_string()).unwrap_or_default(),
                match (&scale, scored) {
                    (Some(shape), Some(s)) => shape.to_100(s).to_string(),
                    _ => String::new(),
                },
            ];
            chunk.extend_from_slice(&RESPONSES.line(&row));
        }
    }
    Ok(Some(Bytes::from(chunk)))
}

/// What each item means: the dictionary for the raw export. The county's lead only.
#[utoipa::path(get, path = "/exports/administrations/{id}/dictionary.csv", tag = "exports",
    params(("id" = String, Path, format = Uuid, description = "The administration (UUID)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What each item means", content_type = "text/csv", body = String),
        (status = 400, description = "The id is not a UUID", body = crate::openapi::ErrorBody),
        (status = 401, description = "No valid bearer token", body = crate::openapi::ErrorBody),
        (status = 403, description = "Not allowed for this caller", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such administration for this caller", body = crate::openapi::ErrorBody),
    ))]
pub async fn dictionary(
    service: web::Data<ExportService>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, RestError> {
    let caller = signed_in(&request, &service.tokens)?;
    let administration = administration_id(&id)?;
    let session = service.store.begin(caller, None).await?;
    let principal = session.principal().clone();
    let (_, version) =
        orb_store::results::start_dictionary(&session, |county| principal.as_lead_of(county), administration).await?;
    session.commit().await?;
    let doc = version.document;
    let language = doc.version.default_language.clone();
    let mut lines = vec![csv_line(
        &["item", "domain", "kind", "concept", "reverse_scored", "required", "scale", "prompt"].map(String::from),
    )];
    for item in &doc.items {
        let scale = doc
            .scale_of(item)
            .map(|s| {
                s.options
                    .iter()
                    .map(|o| format!("{}={}", o.value, o.label.get(&language).cloned().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_else(|| item.options.iter().map(|c| c.value.clone()).collect::<Vec<_>>().join("; "));
        lines.push(csv_line(&[
            item.code.clone(),
            item.domain.clone(),
            format!("{:?}", item.kind).to_uppercase(),
            item.concept.clone().unwrap_or_default(),
            item.reverse_scored.to_string(),
            item.required.to_string(),
            scale,
            item.prompt.get(&language).cloned().unwrap_or_default(),
        ]));
    }
    for (column, meaning) in row_columns() {
        let cells = [
            column.to_owned(),
            String::new(),
            "COLUMN".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            meaning,
        ];
        lines.push(csv_line(&cells));
    }
    Ok(csv_response("dictionary.csv", stream::iter(lines.into_iter().map(Ok))))
}

/// What the row columns of `responses.csv` mean, said in the dictionary: the respondent number
/// and order, and the group attributes left blank where they would single out a small group.
fn row_columns() -> Vec<(&'static str, String)> {
    let blank = "Blank where the respondent gave none, or where showing it would place the row in a group \
                 below the survey's minimum reporting size (alone or with the row's other columns): such a \
                 value is blanked on every row that has it, for the whole survey.";
    let blanked = "Rows are read once the survey has closed; it cannot reopen after.";
    vec![
        (
            "respondent",
            "A number for this export only, in an order fixed for the closed survey and unrelated to \
             invitation codes, response ids or submission order."
                .to_owned(),
        ),
        ("perspective", format!("The perspective answered from. {blank} {blanked}")),
        ("org_unit_id", format!("The unit answered for. {blank} {blanked}")),
        ("language", format!("The language answered in. {blank} {blanked}")),
    ]
}

/// The aggregates the caller may see, withheld groups included as such.
#[utoipa::path(get, path = "/exports/administrations/{id}/results.csv", tag = "exports",
    params(("id" = String, Path, format = Uuid, description = "The administration (UUID)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The aggregates the caller may see", content_type = "text/csv", body = String),
        (status = 400, description = "The id is not a UUID", body = crate::openapi::ErrorBody),
        (status = 401, description = "No valid bearer token", body = crate::openapi::ErrorBody),
        (status = 403, description = "Not allowed for this caller", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such administration for this caller", body = crate::openapi::ErrorBody),
    ))]
pub async fn results(
    service: web::Data<ExportService>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, RestError> {
    let caller = signed_in(&request, &service.tokens)?;
    let administration = administration_id(&id)?;
    let session = service.store.begin(caller, None).await?;
    let results = orb_store::results::of_administration(&session, administration).await?;
    session.commit().await?;
    let mut groups: Vec<(String, String, Released<GroupFigures>)> =
        vec![("all".into(), String::new(), results.overall)];
    groups.extend(results.by_perspective.into_iter().map(|g| ("perspective".into(), g.key, g.figures)));
    groups.extend(results.by_unit.into_iter().map(|g| ("org_unit".into(), g.key.to_string(), g.figures)));
    groups.extend(
        results
            .by_perspective_in_unit
            .into_iter()
            .map(|g| ("org_unit_perspective".into(), format!("{}/{}", g.key.unit, g.key.perspective), g.figures)),
    );
    let header = RESULTS.header();
    let body = stream::iter(std::iter::once(header))
        .chain(stream::iter(groups).map(|(kind, key, figures)| group_rows(&kind, &key, &figures)))
        .map(Ok);
    Ok(csv_response("results.csv", body))
}

fn number(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// The columns every figure row shares: group, level, code, n, mean, SD, interval, score.
fn figure_row(kind: &str, key: &str, level: &str, code: &str, summary: &Summary, score: f64) -> Vec<String> {
    vec![
        kind.into(),
        key.into(),
        String::new(),
        level.into(),
        code.into(),
        summary.n.to_string(),
        summary.mean.to_string(),
        number(summary.sd),
        number(summary.ci.map(|c| c.0)),
        number(summary.ci.map(|c| c.1)),
        score.to_string(),
    ]
}

/// What `results.csv` writes in its `withheld` column for a withheld group or figure.
const WITHHELD: &str = "small_group";

fn group_rows(kind: &str, key: &str, figures: &Released<GroupFigures>) -> Bytes {
    let mut out = Vec::new();
    match figures {
        // One reason for every withheld figure, as in the API: a reason would bound the group.
        Released::Withheld(_) => {
            out.extend_from_slice(&RESULTS.line(&[kind, key, WITHHELD]));
        }
        Released::Shown(f) => {
            for d in &f.domains {
                if d.withheld.is_some() {
                    out.extend_from_slice(&RESULTS.line(&[kind, key, WITHHELD, "domain", &d.code]));
                    continue;
                }
                let Some(s) = &d.stats else { continue };
                let mut row = figure_row(kind, key, "domain", &d.code, &s.summary, s.score);
                row.extend([
                    number(s.alpha),
                    number(s.agreement.map(|a| a.rwg_j)),
                    s.agreement.is_some_and(|a| a.low).to_string(),
                    String::new(),
                ]);
                out.extend_from_slice(&RESULTS.line(&row));
            }
            for i in &f.items {
                if i.withheld.is_some() {
                    out.extend_from_slice(&RESULTS.line(&[kind, key, WITHHELD, "item", &i.code]));
                    continue;
                }
                let Some(s) = &i.stats else { continue };
                let mut row = figure_row(kind, key, "item", &i.code, &s.summary, s.score);
                row.extend([String::new(), String::new(), String::new(), s.favourable.p.to_string()]);
                out.extend_from_slice(&RESULTS.line(&row));
            }
        }
    }
    Bytes::from(out)
}
