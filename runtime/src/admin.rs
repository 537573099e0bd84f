//! The admin listener: health and readiness probes, Prometheus metrics, the live policy
//! version, policy reloads and a policy simulator that decides a request without touching
//! storage. It runs on its own core thread, apart from the S3 cores.
//!
//! Bind it to loopback or a management network: it reveals policy ids. With `admin.token_env`
//! set, every endpoint but the probes needs `Authorization: Bearer <token>`.

use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock, mpsc};
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};
use ironbucket_http::{
    Body, ConnectionInfo, Method, ProtocolError, RequestHead, Response, Service,
};
use ironbucket_policy::{Action, DenyReason, Principal, Request, RequestContext};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;

use crate::audit::AuditSink;
use crate::metrics::{Gauges, Metrics};
use crate::policy::{PolicyStore, ReloadRequest, ReloadStatus};

/// Largest simulate request body read.
const MAX_ADMIN_BODY: usize = 64 * 1024;

/// What the admin service reads; shared with the S3 cores and the reloader.
pub struct AdminState {
    pub policy: Arc<PolicyStore>,
    pub metrics: Arc<Metrics>,
    pub audit: AuditSink,
    pub reloader: mpsc::Sender<ReloadRequest>,
    /// Set once the S3 cores have started.
    pub drivers: OnceLock<Vec<&'static str>>,
    /// Bearer token for the non-probe endpoints, when configured.
    pub token: Option<String>,
}

pub struct AdminService {
    state: Arc<AdminState>,
}

impl AdminService {
    pub fn new(state: Arc<AdminState>) -> AdminService {
        AdminService { state }
    }

    fn authorized(&self, request: &RequestHead) -> bool {
        let Some(token) = &self.state.token else {
            return true;
        };
        let presented = request
            .header("authorization")
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or("");
        presented.as_bytes().ct_eq(token.as_bytes()).into()
    }

    fn metrics(&self) -> Response {
        let status = self.state.policy.status.load();
        let stats = self.state.audit.stats();
        let drivers = self.state.drivers.get().map_or(&[][..], Vec::as_slice);
        let text = self.state.metrics.render(&Gauges {
            policy_digest: &status.digest,
            policy_count: status.policy_count,
            policy_last_reload_ok: status.last_error.is_none(),
            audit_written: stats.written.load(Ordering::Relaxed),
            audit_write_errors: stats.write_errors.load(Ordering::Relaxed),
            drivers,
        });
        text_response(200, "text/plain; version=0.0.4", text)
    }

    fn ready(&self) -> Response {
        let status = self.state.policy.status.load();
        if status.policy_count == 0 {
            // With no policies every request is denied; do not take traffic.
            return text_response(503, "text/plain", "not ready: no policies loaded\n".into());
        }
        if self.state.drivers.get().is_none() {
            return text_response(503, "text/plain", "not ready: cores starting\n".into());
        }
        text_response(200, "text/plain", "ready\n".into())
    }

    async fn reload(&self) -> Response {
        let (reply, result) = oneshot::channel();
        let request = ReloadRequest {
            trigger: "admin",
            reply: Some(reply),
        };
        if self.state.reloader.send(request).is_err() {
            return json_response(
                503,
                &serde_json::json!({"error": "policy reloader stopped"}),
            );
        }
        match result.await {
            Ok(Ok(status)) => json_response(200, &StatusView::from(&status)),
            Ok(Err(error)) => json_response(
                422,
                &serde_json::json!({
                    "error": error,
                    "kept": StatusView::from(&**self.state.policy.status.load()),
                }),
            ),
            Err(_) => json_response(
                503,
                &serde_json::json!({"error": "policy reloader stopped"}),
            ),
        }
    }

    async fn simulate(&self, body: &mut Body<'_>) -> Response {
        let document = match read_body(body).await {
            Ok(document) => document,
            Err(message) => return json_response(400, &serde_json::json!({"error": message})),
        };
        let request: SimulateRequest = match serde_json::from_slice(&document) {
            Ok(request) => request,
            Err(error) => {
                return json_response(
                    400,
                    &serde_json::json!({
                        "error": format!("invalid simulate request: {error}")
                    }),
                );
            }
        };
        match simulate(&self.state.policy, &request) {
            Ok(answer) => json_response(200, &answer),
            Err(message) => json_response(400, &serde_json::json!({"error": message})),
        }
    }
}

impl Service for AdminService {
    async fn call(
        &self,
        request: &RequestHead,
        body: &mut Body<'_>,
        _conn: &ConnectionInfo,
    ) -> Response {
        let path = request.path();
        match (&request.method, path) {
            (Method::Get, "/healthz") => return text_response(200, "text/plain", "ok\n".into()),
            (Method::Get, "/readyz") => return self.ready(),
            _ => {}
        }
        if !self.authorized(request) {
            return json_response(
                401,
                &serde_json::json!({"error": "missing or wrong bearer token"}),
            );
        }
        match (&request.method, path) {
            (Method::Get, "/metrics") => self.metrics(),
            (Method::Get, "/policy") => {
                json_response(200, &StatusView::from(&**self.state.policy.status.load()))
            }
            (Method::Post, "/policy/reload") => self.reload().await,
            (Method::Post, "/policy/simulate") => self.simulate(body).await,
            _ => json_response(
                404,
                &serde_json::json!({
                    "error": format!("no admin endpoint {} {path}", request.method),
                    "endpoints": ["GET /healthz", "GET /readyz", "GET /metrics", "GET /policy",
                        "POST /policy/reload", "POST /policy/simulate"],
                }),
            ),
        }
    }

    fn protocol_error(&self, error: &ProtocolError, _conn: &ConnectionInfo) -> Response {
        json_response(
            error.status(),
            &serde_json::json!({"error": error.to_string()}),
        )
    }
}

/// The policy status as the admin listener shows it.
#[derive(Serialize)]
struct StatusView {
    digest: String,
    policy_count: usize,
    loaded_at: String,
    last_attempt: String,
    trigger: &'static str,
    last_error: Option<String>,
}

impl From<&ReloadStatus> for StatusView {
    fn from(status: &ReloadStatus) -> StatusView {
        StatusView {
            digest: status.digest.clone(),
            policy_count: status.policy_count,
            loaded_at: rfc3339(status.loaded_at),
            last_attempt: rfc3339(status.last_attempt),
            trigger: status.trigger,
            last_error: status.last_error.clone(),
        }
    }
}

/// A request to decide: who, what, on which resource, in which context.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulateRequest {
    pub principal: SimulatePrincipal,
    pub action: String,
    pub resource: String,
    #[serde(default)]
    pub context: SimulateContext,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatePrincipal {
    pub user_id: String,
    #[serde(default)]
    pub username: Option<String>,
    pub tenant: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub service_account: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulateContext {
    pub source_ip: Option<IpAddr>,
    #[serde(default)]
    pub secure_transport: bool,
    /// Seconds since the Unix epoch; defaults to now.
    pub time: Option<i64>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SimulateAnswer {
    pub decision: &'static str,
    pub reason: String,
    pub matched_policies: Vec<String>,
    pub dry_run_policies: Vec<String>,
    pub policy_digest: String,
}

/// Decides a simulated request against the live table.
pub fn simulate(store: &PolicyStore, request: &SimulateRequest) -> Result<SimulateAnswer, String> {
    let action = Action::from_name(&request.action).ok_or_else(|| {
        format!(
            "unknown action {:?}; use an S3 action such as s3:GetObject",
            request.action
        )
    })?;
    let principal = Principal {
        user_id: request.principal.user_id.clone(),
        username: request
            .principal
            .username
            .clone()
            .unwrap_or_else(|| request.principal.user_id.clone()),
        tenant: request.principal.tenant.clone(),
        roles: request.principal.roles.clone(),
        groups: request.principal.groups.clone(),
        service_account: request.principal.service_account,
        ..Principal::default()
    };
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64);
    let context = RequestContext {
        source_ip: request.context.source_ip,
        secure_transport: request.context.secure_transport,
        current_time_unix: request.context.time.unwrap_or(now),
        user_agent: request.context.user_agent.as_deref(),
        ..RequestContext::default()
    };
    let table = store.live.load();
    let decision = table.evaluate(&Request {
        principal: &principal,
        action,
        resource: &request.resource,
        context: &context,
    });
    let reason = match &decision.reason {
        DenyReason::Allowed => "allowed by a matching allow policy".to_owned(),
        DenyReason::ExplicitDeny { policy_id } => {
            format!("explicitly denied by policy {policy_id}")
        }
        DenyReason::NoMatchingAllow => "no allow policy matches".to_owned(),
    };
    Ok(SimulateAnswer {
        decision: if decision.is_allowed() {
            "allow"
        } else {
            "deny"
        },
        reason,
        matched_policies: decision
            .matched_policies
            .iter()
            .map(|id| id.to_string())
            .collect(),
        dry_run_policies: decision
            .dry_run_matched
            .iter()
            .map(|id| id.to_string())
            .collect(),
        policy_digest: table.digest().to_owned(),
    })
}

async fn read_body(body: &mut Body<'_>) -> Result<Bytes, String> {
    if body
        .declared_length()
        .is_some_and(|length| length > MAX_ADMIN_BODY as u64)
    {
        return Err(format!(
            "request body is larger than {MAX_ADMIN_BODY} bytes"
        ));
    }
    let mut document = BytesMut::new();
    while let Some(chunk) = body.next_chunk().await.map_err(|error| error.to_string())? {
        if document.len() + chunk.len() > MAX_ADMIN_BODY {
            return Err(format!(
                "request body is larger than {MAX_ADMIN_BODY} bytes"
            ));
        }
        document.extend_from_slice(&chunk);
    }
    Ok(document.freeze())
}

fn text_response(status: u16, content_type: &'static str, text: String) -> Response {
    Response::full(status, text).with_header("content-type", content_type)
}

fn json_response(status: u16, value: &impl Serialize) -> Response {
    let mut body = serde_json::to_vec_pretty(value).unwrap_or_default();
    body.push(b'\n');
    Response::full(status, body).with_header("content-type", "application/json")
}

fn rfc3339(time: SystemTime) -> String {
    time::OffsetDateTime::from(time)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
