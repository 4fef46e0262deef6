//! The OpenAPI 3.1 document. Paths and schemas come from the handlers' `#[utoipa::path]`
//! annotations as they are registered (see `crate::router`); this module adds what every
//! operation shares, so it is written once: the bearer security scheme, the problem
//! responses each kind of operation can give, and the `Idempotency-Key` header of POSTs.

use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required};

use crate::error::{FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "taskman",
        description = "Plans in markdown, kept live: projects, plans, tasks, dependencies, \
            analytics, sprints, action lists and the audit log.\n\n\
            Every route under /api/v1 needs `Authorization: Bearer <api key>`. Errors are \
            RFC 9457 `application/problem+json`. GET answers carry an `ETag`; PATCH, PUT and \
            DELETE honour `If-Match` (412 when stale); POST honours `Idempotency-Key`."
    ),
    tags(
        (name = "projects", description = "Projects hold plans, tasks and sprints"),
        (name = "plans", description = "Markdown plans: upload to import or sync, download with changes written in"),
        (name = "tasks", description = "Tasks, their status transitions and dependencies"),
        (name = "analytics", description = "Progress, ready and blocked work, critical path, lint"),
        (name = "sprints", description = "Time-boxed sets of tasks"),
        (name = "action-lists", description = "Follow-up lists and their items"),
        (name = "events", description = "The audit log"),
        (name = "health", description = "Probes for load balancers and orchestrators"),
    ),
    components(schemas(Problem, FieldError)),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

/// The problem responses: (status, component name, description).
const PROBLEMS: &[(&str, &str, &str)] = &[
    (
        "400",
        "BadRequest",
        "The request cannot be read: malformed JSON, a bad id, a bad query string",
    ),
    ("401", "Unauthorized", "No API key, or not a valid one"),
    ("403", "Forbidden", "The key's role may not do this"),
    ("404", "NotFound", "No such resource"),
    (
        "408",
        "RequestTimeout",
        "The request took longer than the server's timeout; its work was cancelled",
    ),
    (
        "409",
        "Conflict",
        "The change conflicts with what is stored (duplicate, cycle, a version changed \
         meanwhile, a transition the rules refuse, an Idempotency-Key still in flight)",
    ),
    (
        "412",
        "PreconditionFailed",
        "If-Match names a version other than the current one",
    ),
    ("413", "PayloadTooLarge", "The body is over the limit"),
    (
        "415",
        "UnsupportedMediaType",
        "The body is not of a media type this operation takes",
    ),
    (
        "422",
        "Unprocessable",
        "Well-formed but invalid: wrong types, unknown fields, empty names, an \
         Idempotency-Key reused with another body; `errors` names the fields",
    ),
    (
        "429",
        "TooManyRequests",
        "Over a rate limit: `Retry-After` says when to retry; `RateLimit-Limit`, \
         `RateLimit-Remaining` and `RateLimit-Reset` describe the window",
    ),
    (
        "500",
        "Internal",
        "An internal error (logged; never detailed)",
    ),
    ("503", "Unavailable", "The database cannot be reached"),
];

/// Which problems an operation can answer with.
fn problems_of(method: &str, path: &str, has_body: bool) -> Vec<&'static str> {
    if !path.starts_with("/api/v1/") {
        return Vec::new();
    }
    let mut out = vec!["400", "401", "404", "408", "422", "429", "500", "503"];
    if method != "get" {
        out.extend(["403", "409"]);
    }
    if has_body {
        out.extend(["413", "415"]);
    }
    if matches!(method, "patch" | "put" | "delete")
        || path.ends_with("/transitions")
        || path.ends_with("/close")
    {
        out.push("412");
    }
    out.sort_unstable();
    out
}

/// The whole document for the operations registered in `paths`.
pub fn finish(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let components = doc.components.get_or_insert_with(Default::default);
    components.security_schemes.insert(
        "bearer".into(),
        RefOr::T(SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("tm_<8 hex>_<secret>")
                .description(Some("An API key (`taskman serve` prints the first one)"))
                .build(),
        )),
    );
    for (_, name, description) in PROBLEMS {
        components.responses.insert(
            (*name).into(),
            RefOr::T(
                ResponseBuilder::new()
                    .description(*description)
                    .content(
                        "application/problem+json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Problem")))
                            .build(),
                    )
                    .build(),
            ),
        );
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops: [(&str, &mut Option<Operation>); 5] = [
            ("get", &mut item.get),
            ("post", &mut item.post),
            ("put", &mut item.put),
            ("patch", &mut item.patch),
            ("delete", &mut item.delete),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            // Handlers are named per module (`update`); the tag makes the id unique.
            if let (Some(tag), Some(id)) = (
                op.tags.as_ref().and_then(|t| t.first()),
                op.operation_id.as_mut(),
            ) {
                *id = format!("{}_{id}", tag.replace('-', "_"));
            }
            let has_body = op.request_body.is_some();
            for code in problems_of(method, path, has_body) {
                let name = PROBLEMS
                    .iter()
                    .find(|p| p.0 == code)
                    .map(|p| p.1)
                    .expect("every problem code is listed");
                op.responses
                    .responses
                    .entry(code.to_string())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
            }
            if !path.starts_with("/api/v1/") {
                // Probes and the document itself need no key.
                op.security = Some(Vec::new());
            }
            if method == "post" && path.starts_with("/api/v1/") {
                op.parameters.get_or_insert_with(Vec::new).push(RefOr::T(
                    ParameterBuilder::new()
                        .name("Idempotency-Key")
                        .parameter_in(ParameterIn::Header)
                        .required(Required::False)
                        .description(Some(
                            "Retry safely: the same key with the same body gives the stored \
                             response and makes one change; with another body it is refused \
                             (422); while the first is still running, 409. Keys last 24 hours.",
                        ))
                        .schema(Some(
                            ObjectBuilder::new()
                                .schema_type(Type::String)
                                .max_length(Some(255))
                                .min_length(Some(1)),
                        ))
                        .build(),
                ));
            }
        }
    }
    doc
}
