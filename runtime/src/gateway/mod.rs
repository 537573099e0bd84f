//! The S3 request path on one core. [`Gateway::call`] drives each request through the phases
//! in order: route, authenticate, tenant isolation, authorize, execute, respond, audit. Each
//! phase has one function below, so a reader finds where every decision is made.

mod auth;
mod body;
mod buckets;
mod error;
mod respond;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use ironbucket_adapters::{BucketInfo, ErrorKind as StorageKind, StorageClient};
use ironbucket_http::{ConnectionInfo, ProtocolError, RequestHead, Response, Service};
use ironbucket_policy::{Action, Decision, DenyReason, Request, RequestContext};
use ironbucket_s3::{ErrorCode, Operation, ResourceKind, RouteInput, S3Error, S3Request};
use ironbucket_sigv4::SigningKeyCache;

use crate::audit::{AuditRecord, AuditSink};
use crate::config::Config;
use crate::identity::{CredentialStore, Identity};
use crate::metrics::{Metrics, Outcome};
use crate::policy::PolicyStore;

pub(crate) use auth::Authenticated;
pub(crate) use body::{entity_too_large, read_xml_body, stream_upload};
pub(crate) use buckets::BucketCache;
pub(crate) use error::{ErrorSource, RequestError};
pub(crate) use respond::{ResponseBuilder, xml_response};

/// State shared by every core: built once at start-up, read through `Arc`.
pub struct Shared {
    pub config: Arc<Config>,
    pub credentials: CredentialStore,
    /// The live and shadow decision tables; a reload swaps them whole.
    pub policy: Arc<PolicyStore>,
    pub metrics: Arc<Metrics>,
    pub storage: StorageClient,
    pub audit: AuditSink,
    /// Buckets whose tenant the configuration fixes, overriding the stored owner.
    pub bucket_tenants: HashMap<String, String>,
    /// Bumped by every bucket creation and deletion, so each core drops its cached records.
    pub bucket_epoch: std::sync::atomic::AtomicU64,
}

/// The per-core S3 service. Built on its core by the server's factory; never crosses threads.
pub struct Gateway {
    pub(crate) shared: Arc<Shared>,
    core: usize,
    /// Derived SigV4 signing keys, so a repeat caller costs one HMAC chain less.
    pub(crate) signing_keys: RefCell<SigningKeyCache>,
    buckets: BucketCache,
    next_request: Cell<u64>,
}

/// The state of one request, carried through the phases and into its audit record.
pub(crate) struct Exchange<'a> {
    pub head: &'a RequestHead,
    pub conn: &'a ConnectionInfo,
    /// Header fields whose values are UTF-8, as the SigV4 and S3 helpers take them.
    pub headers: Vec<(&'a str, &'a str)>,
    pub request_id: String,
    pub received_at: SystemTime,
    started: Instant,
    pub route: Option<S3Request>,
    pub identity: Option<Arc<Identity>>,
    pub decision: Option<Decision>,
    pub deny_reason: &'static str,
    /// The shadow table's verdict, when it disagreed with the live one.
    pub shadow_disagreement: Option<&'static str>,
    pub bytes_in: u64,
}

/// The bucket a request addresses, as far as the tenant check found it.
pub(crate) enum BucketLookup {
    /// The request addresses no bucket (ListBuckets).
    None,
    /// The bucket does not exist.
    Missing,
    Found(std::rc::Rc<BucketInfo>),
}

impl Gateway {
    pub fn new(shared: Arc<Shared>, core: usize) -> Gateway {
        Gateway {
            shared,
            core,
            signing_keys: RefCell::new(SigningKeyCache::new(1024)),
            buckets: BucketCache::default(),
            next_request: Cell::new(0),
        }
    }

    pub(crate) fn config(&self) -> &Config {
        &self.shared.config
    }

    pub(crate) fn storage(&self) -> &StorageClient {
        &self.shared.storage
    }

    /// Request ids are unique per process: core index, then a per-core counter, in hex.
    fn next_request_id(&self) -> String {
        let sequence = self.next_request.get();
        self.next_request.set(sequence + 1);
        format!("{:02X}{:014X}", self.core, sequence)
    }

    async fn handle(
        &self,
        exchange: &mut Exchange<'_>,
        body: &mut ironbucket_http::Body<'_>,
    ) -> Result<Response, RequestError> {
        reject_non_utf8_headers(exchange.head)?;
        let request = self.route(exchange)?;
        exchange.route = Some(request.clone());

        let authenticated = self.authenticate(exchange, &request).inspect_err(|_| {
            exchange.deny_reason = "authentication";
        })?;
        exchange.identity = Some(authenticated.identity.clone());

        if let Operation::NotImplemented { name } = request.operation {
            return Err(RequestError::message(
                ErrorCode::NotImplemented,
                format!("{name} is not implemented by this gateway."),
            ));
        }

        let bucket = self
            .check_tenant(exchange, &request, &authenticated.identity)
            .await?;

        // DeleteObjects is authorized key by key inside the operation, as S3 does.
        if request.operation != Operation::DeleteObjects {
            self.authorize(exchange, &authenticated.identity, &request)?;
        }

        if matches!(bucket, BucketLookup::Missing) && request.operation != Operation::CreateBucket {
            return Err(RequestError::client(
                S3Error::new(ErrorCode::NoSuchBucket)
                    .extra("BucketName", request.bucket.clone().unwrap_or_default()),
            ));
        }

        crate::ops::execute(self, exchange, &request, authenticated, bucket, body).await
    }

    /// Phase 1: the S3 operation, bucket and key the request addresses.
    fn route(&self, exchange: &Exchange<'_>) -> Result<S3Request, RequestError> {
        let head = exchange.head;
        let input = RouteInput {
            method: head.method.as_str(),
            target: &head.target,
            host: head.header("host"),
            virtual_host_domains: &self.config().server.virtual_host_domains,
            copy_source: head.header("x-amz-copy-source"),
        };
        ironbucket_s3::route(&input).map_err(RequestError::client)
    }

    /// Phase 2: who is calling, proven by a SigV4 signature, or the anonymous identity.
    fn authenticate(
        &self,
        exchange: &Exchange<'_>,
        request: &S3Request,
    ) -> Result<Authenticated, RequestError> {
        auth::authenticate(self, exchange, request)
    }

    /// Phase 3: tenant isolation, a hard rule applied before and regardless of policy. A
    /// caller never reaches a bucket of another tenant; only the anonymous identity, which
    /// has no tenant, is left to the policies.
    pub(crate) async fn check_tenant(
        &self,
        exchange: &mut Exchange<'_>,
        request: &S3Request,
        identity: &Identity,
    ) -> Result<BucketLookup, RequestError> {
        let Some(bucket) = request.bucket.as_deref() else {
            return Ok(BucketLookup::None);
        };
        let lookup = self.lookup_bucket(bucket).await?;
        // CreateBucket on a taken name returns BucketAlreadyExists, as S3 does, rather
        // than AccessDenied; the operation itself refuses to touch the bucket.
        if let BucketLookup::Found(info) = &lookup
            && request.operation != Operation::CreateBucket
            && !identity.is_anonymous()
            && info.tenant != identity.principal.tenant
        {
            exchange.deny_reason = "tenant-isolation";
            return Err(access_denied(
                self.config().policy.deny_detail,
                "the bucket belongs to another tenant",
            ));
        }
        Ok(lookup)
    }

    /// Finds a bucket and its tenant, applying the configuration's tenant overrides. Records
    /// come from this core's cache when fresh; see [`BucketCache`].
    pub(crate) async fn lookup_bucket(&self, bucket: &str) -> Result<BucketLookup, RequestError> {
        let epoch = self
            .shared
            .bucket_epoch
            .load(std::sync::atomic::Ordering::Acquire);
        if let Some(info) = self.buckets.get(bucket, epoch) {
            return Ok(BucketLookup::Found(info));
        }
        match self.storage().head_bucket(bucket).await {
            Ok(mut info) => {
                if let Some(tenant) = self.shared.bucket_tenants.get(bucket) {
                    info.tenant = tenant.clone();
                }
                Ok(BucketLookup::Found(self.buckets.insert(info, epoch)))
            }
            Err(error) if error.kind() == StorageKind::NoSuchBucket => Ok(BucketLookup::Missing),
            Err(error) => Err(error.into()),
        }
    }

    /// Tells every core that a bucket was created or deleted.
    pub(crate) fn buckets_changed(&self) {
        self.shared
            .bucket_epoch
            .fetch_add(1, std::sync::atomic::Ordering::Release);
    }

    /// Phase 4: the decision table's verdict on the request's action and resource.
    fn authorize(
        &self,
        exchange: &mut Exchange<'_>,
        identity: &Identity,
        request: &S3Request,
    ) -> Result<(), RequestError> {
        let resource = match request.operation.resource_kind() {
            // IAM authorizes s3:ListAllMyBuckets on every bucket's ARN at once.
            ResourceKind::Service => "arn:aws:s3:::*".to_owned(),
            _ => request.arn(),
        };
        self.authorize_action(
            exchange,
            identity,
            request.operation.iam_action_name(),
            &resource,
        )
    }

    /// Decides one action on one resource ARN, recording the decision in the exchange.
    pub(crate) fn authorize_action(
        &self,
        exchange: &mut Exchange<'_>,
        identity: &Identity,
        action_name: &str,
        resource: &str,
    ) -> Result<(), RequestError> {
        let Some(action) = Action::from_name(action_name) else {
            // The router only produces action names the policy crate defines; fail closed if not.
            return Err(RequestError::internal(format!(
                "the policy language has no action {action_name}"
            )));
        };
        let query = exchange.route.as_ref().map(|route| &route.query);
        let context = RequestContext {
            source_ip: Some(exchange.conn.peer.ip()),
            secure_transport: exchange.conn.tls,
            current_time_unix: unix_seconds(exchange.received_at),
            user_agent: exchange.head.header("user-agent"),
            prefix: query.and_then(|q| q.get("prefix")),
            delimiter: query.and_then(|q| q.get("delimiter")),
            max_keys: query.and_then(|q| q.get("max-keys")),
            headers: &exchange.headers,
        };
        let request = Request {
            principal: &identity.principal,
            action,
            resource,
            context: &context,
        };
        let decision = self.shared.policy.live.load().evaluate(&request);
        let allowed = decision.is_allowed();
        if let Some(shadow) = self.shared.policy.shadow.load().as_deref()
            && shadow.evaluate(&request).is_allowed() != allowed
        {
            exchange.shadow_disagreement = Some(if allowed { "deny" } else { "allow" });
        }
        let reason = decision.reason.clone();
        exchange.decision = Some(decision);
        if allowed {
            return Ok(());
        }
        let detail = self.config().policy.deny_detail;
        match reason {
            DenyReason::ExplicitDeny { policy_id } => {
                exchange.deny_reason = "explicit-deny";
                Err(access_denied(
                    detail,
                    &format!("policy {policy_id} denies {action_name} on {resource}"),
                ))
            }
            _ => {
                exchange.deny_reason = "no-matching-allow";
                Err(access_denied(
                    detail,
                    &format!("no policy allows {action_name} on {resource}"),
                ))
            }
        }
    }

    fn record_metrics(
        &self,
        exchange: &Exchange<'_>,
        response: &Response,
        error_source: Option<ErrorSource>,
    ) {
        let outcome = match (exchange.deny_reason, error_source) {
            (_, None) => Outcome::Ok,
            ("none", Some(ErrorSource::Client)) => Outcome::ClientError,
            (_, Some(ErrorSource::Client)) => Outcome::Denied,
            (_, Some(ErrorSource::Backend)) => Outcome::BackendError,
            (_, Some(ErrorSource::Internal)) => Outcome::InternalError,
        };
        self.shared.metrics.core(self.core).record(
            response.status,
            outcome,
            exchange.bytes_in,
            respond::body_length(response),
            exchange.started.elapsed(),
        );
    }

    /// Builds the audit record of a request the HTTP layer rejected before it was routed.
    fn protocol_error_record(
        &self,
        request_id: String,
        response: &Response,
        code: ErrorCode,
        conn: &ConnectionInfo,
    ) -> AuditRecord {
        AuditRecord {
            time: rfc3339(SystemTime::now()),
            request_id,
            principal: String::new(),
            tenant: String::new(),
            credential: "none",
            access_key_id: None,
            operation: "unknown",
            action: "",
            bucket: None,
            key: None,
            decision: "none",
            reason: "none",
            policies: Vec::new(),
            dry_run_policies: Vec::new(),
            shadow_decision: None,
            policy_digest: self.shared.policy.live.load().digest().to_owned(),
            status: response.status,
            error: Some(code.as_str()),
            bytes_in: 0,
            bytes_out: respond::body_length(response),
            duration_us: 0,
            client_addr: conn.peer.to_string(),
            user_agent: None,
            core: self.core,
        }
    }

    /// Phase 7: the audit record. Awaiting a slot keeps records from being dropped.
    async fn audit(&self, exchange: &Exchange<'_>, response: &Response, error: Option<ErrorCode>) {
        let route = exchange.route.as_ref();
        let identity = exchange.identity.as_deref();
        let decision = exchange.decision.as_ref();
        // A request that failed before authorization (routing, a bad signature) was never
        // decided, unless authentication itself refused it.
        let verdict = match (exchange.deny_reason, decision) {
            ("none", Some(_)) => "allow",
            ("none", None) => "none",
            _ => "deny",
        };
        let record = AuditRecord {
            time: rfc3339(exchange.received_at),
            request_id: exchange.request_id.clone(),
            principal: identity.map_or_else(String::new, |i| i.principal.user_id.clone()),
            tenant: identity.map_or_else(String::new, |i| i.principal.tenant.clone()),
            credential: identity.map_or("none", |i| i.credential.as_str()),
            access_key_id: identity.and_then(|i| i.access_key_id.clone()),
            operation: route.map_or("unknown", |r| r.operation.name()),
            action: route.map_or("", |r| r.operation.iam_action_name()),
            bucket: route.and_then(|r| r.bucket.clone()),
            key: route.and_then(|r| r.key.clone()),
            decision: verdict,
            reason: exchange.deny_reason,
            policies: decision.map_or_else(Vec::new, |d| {
                d.matched_policies.iter().map(|id| id.to_string()).collect()
            }),
            dry_run_policies: decision.map_or_else(Vec::new, |d| {
                d.dry_run_matched.iter().map(|id| id.to_string()).collect()
            }),
            shadow_decision: exchange.shadow_disagreement,
            policy_digest: self.shared.policy.live.load().digest().to_owned(),
            status: response.status,
            error: error.map(|code| code.as_str()),
            bytes_in: exchange.bytes_in,
            bytes_out: respond::body_length(response),
            duration_us: exchange.started.elapsed().as_micros() as u64,
            client_addr: exchange.conn.peer.to_string(),
            user_agent: exchange.head.header("user-agent").map(str::to_owned),
            core: self.core,
        };
        if !self.shared.audit.record(record).await {
            tracing::error!(request.id = %exchange.request_id, "audit writer stopped; record lost");
        }
    }
}

impl Service for Gateway {
    async fn call(
        &self,
        head: &RequestHead,
        body: &mut ironbucket_http::Body<'_>,
        conn: &ConnectionInfo,
    ) -> Response {
        let mut exchange = Exchange {
            head,
            conn,
            headers: head
                .headers
                .iter()
                .filter_map(|header| Some((header.name.as_str(), header.value_str()?)))
                .collect(),
            request_id: self.next_request_id(),
            received_at: SystemTime::now(),
            started: Instant::now(),
            route: None,
            identity: None,
            decision: None,
            deny_reason: "none",
            shadow_disagreement: None,
            bytes_in: 0,
        };
        let (response, error, error_source) = match self.handle(&mut exchange, body).await {
            Ok(response) => (response, None, None),
            Err(error) => {
                log_error(&exchange, &error);
                let (code, source) = (error.s3.code, error.source);
                (
                    respond::error_response(&exchange, error.s3),
                    Some(code),
                    Some(source),
                )
            }
        };
        exchange.bytes_in = exchange.bytes_in.max(body.received());
        self.record_metrics(&exchange, &response, error_source);
        self.audit(&exchange, &response, error).await;
        response
    }

    fn protocol_error(&self, error: &ProtocolError, conn: &ConnectionInfo) -> Response {
        let code = match error.status() {
            414 => ErrorCode::InvalidURI,
            431 => ErrorCode::RequestHeaderSectionTooLarge,
            408 => ErrorCode::RequestTimeout,
            501 => ErrorCode::NotImplemented,
            _ => ErrorCode::InvalidRequest,
        };
        let request_id = self.next_request_id();
        tracing::info!(
            request.id = %request_id, client.addr = %conn.peer, error = %error,
            "malformed request rejected"
        );
        let s3 = S3Error::with_message(code, error.to_string());
        let response = respond::protocol_error_response(error.status(), &s3, &request_id);
        // This path cannot await, so the record is queued without waiting.
        let record = self.protocol_error_record(request_id, &response, code, conn);
        if !self.shared.audit.try_record(record) {
            tracing::error!(client.addr = %conn.peer, "audit queue full; record of a rejected request lost");
        }
        response
    }
}

/// Rejects a request with a header value that is not UTF-8. The signature check and the S3
/// layer read headers as text, so such a field would be invisible to one and could still
/// shadow a signed field of the same name for the other.
fn reject_non_utf8_headers(head: &RequestHead) -> Result<(), RequestError> {
    match head
        .headers
        .iter()
        .find(|header| header.value_str().is_none())
    {
        None => Ok(()),
        Some(header) => Err(RequestError::client(
            S3Error::with_message(
                ErrorCode::InvalidArgument,
                format!("The value of header {} is not valid UTF-8.", header.name),
            )
            .extra("ArgumentName", header.name.clone()),
        )),
    }
}

fn access_denied(detail: bool, reason: &str) -> RequestError {
    let message = if detail {
        format!("Access Denied: {reason}.")
    } else {
        "Access Denied".to_owned()
    };
    RequestError::message(ErrorCode::AccessDenied, message)
}

fn log_error(exchange: &Exchange<'_>, error: &RequestError) {
    let operation = exchange
        .route
        .as_ref()
        .map_or("unknown", |r| r.operation.name());
    let detail = error.detail.as_deref().unwrap_or("");
    match error.source {
        ErrorSource::Client => tracing::debug!(
            request.id = %exchange.request_id, s3.operation = operation,
            s3.code = error.s3.code.as_str(), error = %error.s3.message, detail, "request rejected"
        ),
        ErrorSource::Backend => tracing::warn!(
            request.id = %exchange.request_id, s3.operation = operation,
            s3.code = error.s3.code.as_str(), error = detail, "backend failed"
        ),
        ErrorSource::Internal => tracing::error!(
            request.id = %exchange.request_id, s3.operation = operation,
            s3.code = error.s3.code.as_str(), error = detail, "request failed"
        ),
    }
}

fn unix_seconds(time: SystemTime) -> i64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

fn rfc3339(time: SystemTime) -> String {
    time::OffsetDateTime::from(time)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
