//! S3 operations: how each one is sent, and how its response is checked, so that a fast
//! error never counts as a fast success.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use quick_xml::events::Event;

use crate::content::{ContentCheck, content_seed, fill_content};
use crate::http::{Body, BodySink, Connection, Connector, HttpError};
use crate::sign::{Authenticator, Credentials, EMPTY_SHA256};

/// Maximum XML response body read (LIST and multipart documents).
const MAX_XML_BODY: usize = 16 * 1024 * 1024;

/// An S3 operation of the workload mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// GetObject of a prepared object, body checked against its content.
    Get,
    /// PutObject of a prepared key with its derived content.
    Put,
    /// HeadObject of a prepared object.
    Head,
    /// ListObjectsV2 under the workload prefix.
    List,
    /// DeleteObject of an object created for deletion by the prepare phase.
    Delete,
    /// CreateMultipartUpload, every UploadPart and CompleteMultipartUpload, timed as one.
    Multipart,
}

impl Op {
    /// Every operation, in report order.
    pub const ALL: [Op; 6] = [
        Op::Get,
        Op::Put,
        Op::Head,
        Op::List,
        Op::Delete,
        Op::Multipart,
    ];

    /// Returns the lower-case name used in `--mix`, `--assert` and reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Put => "put",
            Self::Head => "head",
            Self::List => "list",
            Self::Delete => "delete",
            Self::Multipart => "multipart",
        }
    }

    /// Parses a name written by [`Op::name`].
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    /// Returns the position of the operation in [`Op::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The `x-amz-content-sha256` value declared for PUT and UploadPart bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PayloadSigning {
    /// The body's SHA-256, computed before sending, as aws-cli does over plain HTTP.
    Sha256,
    /// `UNSIGNED-PAYLOAD`, as the AWS SDKs do over HTTPS.
    Unsigned,
}

/// The objects and credentials of a workload, shared by all connection threads.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Workload {
    /// Bucket name.
    pub bucket: String,
    /// Prefix of every key the workload uses.
    pub prefix: String,
    /// Size of prepared and PUT objects in bytes.
    pub object_size: u64,
    /// Number of prepared objects that GET, HEAD and PUT address.
    pub keys: u32,
    /// Number of objects the prepare phase creates for DELETE.
    pub delete_keys: u32,
    /// Part size of a multipart upload in bytes.
    pub part_size: u64,
    /// Number of parts of a multipart upload.
    pub parts: u32,
    /// `max-keys` of a LIST.
    pub list_max_keys: u32,
    /// Declared payload hash of uploads.
    pub payload: PayloadSigning,
    /// Credentials.
    #[serde(skip)]
    pub credentials: Credentials,
}

impl Workload {
    /// Returns the key of prepared object `index`.
    pub fn object_key(&self, index: u32) -> String {
        format!("{}{index:08}", self.prefix)
    }

    /// Returns the key of the object that DELETE number `index` removes.
    pub fn delete_key(&self, index: u32) -> String {
        format!("{}delete/{index:08}", self.prefix)
    }

    /// Returns the key of multipart upload number `index`.
    pub fn multipart_key(&self, index: u32) -> String {
        format!("{}multipart/{index:08}", self.prefix)
    }
}

/// The outcome of one operation, with its response timestamps.
#[derive(Debug, Clone)]
pub struct OpOutcome {
    /// `None` on success, else the error kind it is counted under (`timeout`, `status_404`,
    /// `content`, ...).
    pub error: Option<String>,
    /// When the first response byte arrived, if one did.
    pub first_byte: Option<Instant>,
    /// When the operation ended.
    pub done: Instant,
    /// Request and response body bytes moved.
    pub bytes: u64,
}

/// An S3 client on one connection thread: the connection, reopened after errors, and the
/// authenticator with its cached signing key.
pub struct Client<'a> {
    workload: &'a Workload,
    connector: &'a Connector,
    authority: &'a str,
    timeout: Duration,
    connection: Option<Connection>,
    authenticator: Authenticator,
    head: Vec<u8>,
    headers: Vec<(&'static str, String)>,
    scratch: Vec<u8>,
}

/// A failed step of an operation: the kind it is counted under and a description.
type StepError = (String, String);

impl<'a> Client<'a> {
    /// Creates a client; no connection is opened until the first request.
    pub fn new(
        workload: &'a Workload,
        connector: &'a Connector,
        authority: &'a str,
        timeout: Duration,
    ) -> Self {
        Self {
            workload,
            connector,
            authority,
            timeout,
            connection: None,
            authenticator: Authenticator::new(&workload.credentials),
            head: Vec::with_capacity(1024),
            headers: Vec::with_capacity(8),
            scratch: Vec::new(),
        }
    }

    /// Opens the connection now if none is open, so the first measured request does not pay
    /// for the TCP (and TLS) handshake.
    pub fn warm_up(&mut self) -> Result<(), HttpError> {
        if self.connection.is_none() {
            self.connection = Some(self.connector.connect()?);
        }
        Ok(())
    }

    /// Runs one operation on the object number `key` of its kind. `on_send` is called just
    /// before the first request byte is written, so the caller can sleep until the
    /// intended send time after the request is built and signed.
    pub fn execute(&mut self, op: Op, key: u32, on_send: &mut dyn FnMut()) -> (Instant, OpOutcome) {
        let mut sent = None;
        let mut first_byte = None;
        let mut bytes = 0;
        let result = self.run_op(op, key, on_send, &mut sent, &mut first_byte, &mut bytes);
        let done = Instant::now();
        let outcome = OpOutcome {
            error: result.err().map(|(kind, _)| kind),
            first_byte,
            done,
            bytes,
        };
        (sent.unwrap_or(done), outcome)
    }

    fn run_op(
        &mut self,
        op: Op,
        key: u32,
        on_send: &mut dyn FnMut(),
        sent: &mut Option<Instant>,
        first_byte: &mut Option<Instant>,
        bytes: &mut u64,
    ) -> Result<(), StepError> {
        let workload = self.workload;
        let bucket = &workload.bucket;
        match op {
            Op::Get => {
                let name = workload.object_key(key);
                let mut check = ContentCheck::new(&name, workload.object_size);
                let target = format!("/{bucket}/{name}");
                let exchange = self.send(
                    "GET",
                    &target,
                    Body::Empty,
                    &mut BodySink::Check(&mut check),
                    on_send,
                    sent,
                )?;
                *first_byte = Some(exchange.first_byte);
                *bytes = exchange.body_length;
                expect_status(exchange.head.status, &[200])?;
                expect_length(exchange.head.content_length, workload.object_size)?;
                if check.received() != workload.object_size {
                    return Err((
                        "length".to_owned(),
                        format!("body of {} bytes", check.received()),
                    ));
                }
                if let Some(offset) = check.mismatch_at() {
                    return Err((
                        "content".to_owned(),
                        format!("wrong byte at offset {offset}"),
                    ));
                }
                Ok(())
            }
            Op::Put => {
                let name = workload.object_key(key);
                let target = format!("/{bucket}/{name}");
                let body = Body::Generated {
                    seed: content_seed(&name),
                    offset: 0,
                    length: workload.object_size,
                };
                let exchange =
                    self.send("PUT", &target, body, &mut BodySink::Discard, on_send, sent)?;
                *first_byte = Some(exchange.first_byte);
                *bytes = workload.object_size;
                expect_status(exchange.head.status, &[200])?;
                if exchange.head.etag.as_deref().is_none_or(str::is_empty) {
                    return Err(("missing_etag".to_owned(), "no ETag".to_owned()));
                }
                Ok(())
            }
            Op::Head => {
                let target = format!("/{bucket}/{}", workload.object_key(key));
                let exchange = self.send(
                    "HEAD",
                    &target,
                    Body::Empty,
                    &mut BodySink::Discard,
                    on_send,
                    sent,
                )?;
                *first_byte = Some(exchange.first_byte);
                expect_status(exchange.head.status, &[200])?;
                expect_length(exchange.head.content_length, workload.object_size)
            }
            Op::List => {
                let mut target =
                    format!("/{bucket}?list-type=2&max-keys={}", workload.list_max_keys);
                if !workload.prefix.is_empty() {
                    let _ = write!(target, "&prefix={}", encode_query_value(&workload.prefix));
                }
                let mut body = std::mem::take(&mut self.scratch);
                body.clear();
                let result = self.send(
                    "GET",
                    &target,
                    Body::Empty,
                    &mut BodySink::Collect {
                        out: &mut body,
                        limit: MAX_XML_BODY,
                    },
                    on_send,
                    sent,
                );
                let outcome = result.and_then(|exchange| {
                    *first_byte = Some(exchange.first_byte);
                    *bytes = exchange.body_length;
                    expect_status(exchange.head.status, &[200])?;
                    let (root, key_count) = xml_root_and_field(&body, "KeyCount")?;
                    if root != "ListBucketResult" {
                        return Err(("xml".to_owned(), format!("root element {root}")));
                    }
                    match key_count.and_then(|count| count.parse::<u64>().ok()) {
                        Some(count) if count > 0 => Ok(()),
                        _ => Err(("list_empty".to_owned(), "KeyCount 0 or missing".to_owned())),
                    }
                });
                self.scratch = body;
                outcome
            }
            Op::Delete => {
                let target = format!("/{bucket}/{}", workload.delete_key(key));
                let exchange = self.send(
                    "DELETE",
                    &target,
                    Body::Empty,
                    &mut BodySink::Discard,
                    on_send,
                    sent,
                )?;
                *first_byte = Some(exchange.first_byte);
                expect_status(exchange.head.status, &[204, 200])
            }
            Op::Multipart => self.multipart(key, on_send, sent, first_byte, bytes),
        }
    }

    fn multipart(
        &mut self,
        key: u32,
        on_send: &mut dyn FnMut(),
        sent: &mut Option<Instant>,
        first_byte: &mut Option<Instant>,
        bytes: &mut u64,
    ) -> Result<(), StepError> {
        let workload = self.workload;
        let name = workload.multipart_key(key);
        let object = format!("/{}/{name}", workload.bucket);
        let mut document = Vec::new();
        let exchange = self.send(
            "POST",
            &format!("{object}?uploads"),
            Body::Empty,
            &mut BodySink::Collect {
                out: &mut document,
                limit: MAX_XML_BODY,
            },
            on_send,
            sent,
        )?;
        *first_byte = Some(exchange.first_byte);
        expect_status(exchange.head.status, &[200])?;

        let (root, upload_id) = xml_root_and_field(&document, "UploadId")?;
        let upload_id = match upload_id {
            Some(id) if root == "InitiateMultipartUploadResult" && !id.is_empty() => id,
            _ => return Err(("xml".to_owned(), "no UploadId".to_owned())),
        };
        let upload_id = encode_query_value(&upload_id);

        let seed = content_seed(&name);
        let mut completion = String::from("<CompleteMultipartUpload>");
        let mut never = || {};
        let mut ignored = None;
        for part in 1..=workload.parts {
            let body = Body::Generated {
                seed,
                offset: u64::from(part - 1) * workload.part_size,
                length: workload.part_size,
            };
            let target = format!("{object}?partNumber={part}&uploadId={upload_id}");
            let exchange = self.send(
                "PUT",
                &target,
                body,
                &mut BodySink::Discard,
                &mut never,
                &mut ignored,
            )?;
            expect_status(exchange.head.status, &[200])?;
            let etag = exchange
                .head
                .etag
                .filter(|etag| !etag.is_empty())
                .ok_or_else(|| {
                    (
                        "missing_etag".to_owned(),
                        format!("part {part} has no ETag"),
                    )
                })?;
            *bytes += workload.part_size;
            let _ = write!(
                completion,
                "<Part><PartNumber>{part}</PartNumber><ETag>{}</ETag></Part>",
                escape_xml(&etag)
            );
        }

        completion.push_str("</CompleteMultipartUpload>");
        document.clear();
        let exchange = self.send(
            "POST",
            &format!("{object}?uploadId={upload_id}"),
            Body::Bytes(completion.as_bytes()),
            &mut BodySink::Collect {
                out: &mut document,
                limit: MAX_XML_BODY,
            },
            &mut never,
            &mut ignored,
        )?;
        expect_status(exchange.head.status, &[200])?;
        // S3 may report a failed completion in a 200 response, so the root element decides.
        let (root, _) = xml_root_and_field(&document, "ETag")?;
        if root != "CompleteMultipartUploadResult" {
            return Err(("xml".to_owned(), format!("completion returned {root}")));
        }
        Ok(())
    }

    /// Creates the workload bucket; an existing bucket owned by the caller is accepted.
    pub fn create_bucket(&mut self) -> Result<(), String> {
        let target = format!("/{}", self.workload.bucket);
        let mut body = Vec::new();
        let exchange = self
            .send(
                "PUT",
                &target,
                Body::Empty,
                &mut BodySink::Collect {
                    out: &mut body,
                    limit: MAX_XML_BODY,
                },
                &mut || {},
                &mut None,
            )
            .map_err(|(_, message)| message)?;
        let text = String::from_utf8_lossy(&body);
        match exchange.head.status {
            200 => Ok(()),
            409 if text.contains("BucketAlreadyOwnedByYou") => Ok(()),
            status => Err(format!("PUT {target} returned {status}: {text}")),
        }
    }

    /// Writes object `key` (a full key, not an index) with its derived content.
    pub fn put_key(&mut self, key: &str) -> Result<(), String> {
        let target = format!("/{}/{key}", self.workload.bucket);
        let body = Body::Generated {
            seed: content_seed(key),
            offset: 0,
            length: self.workload.object_size,
        };
        let exchange = self
            .send(
                "PUT",
                &target,
                body,
                &mut BodySink::Discard,
                &mut || {},
                &mut None,
            )
            .map_err(|(_, message)| format!("PUT {target}: {message}"))?;
        if exchange.head.status != 200 {
            return Err(format!("PUT {target} returned {}", exchange.head.status));
        }
        Ok(())
    }

    /// Builds, signs and sends one request and reads its response. On a transport error the
    /// connection is dropped, so the next request opens a new one.
    fn send(
        &mut self,
        method: &str,
        target: &str,
        body: Body<'_>,
        sink: &mut BodySink<'_>,
        on_send: &mut dyn FnMut(),
        sent: &mut Option<Instant>,
    ) -> Result<crate::http::Exchange, StepError> {
        let length = match body {
            Body::Empty => 0,
            Body::Bytes(bytes) => bytes.len() as u64,
            Body::Generated { length, .. } => length,
        };
        let payload_hash = match (body, self.workload.payload) {
            (Body::Empty, _) => EMPTY_SHA256.to_owned(),
            (_, PayloadSigning::Unsigned) => "UNSIGNED-PAYLOAD".to_owned(),
            (Body::Bytes(bytes), PayloadSigning::Sha256) => sha256_hex(bytes),
            (
                Body::Generated {
                    seed,
                    offset,
                    length,
                },
                PayloadSigning::Sha256,
            ) => generated_sha256_hex(seed, offset, length),
        };
        self.headers.clear();
        self.headers.push(("host", self.authority.to_owned()));
        self.authenticator
            .authenticate(method, target, &mut self.headers, &payload_hash);
        self.head.clear();
        let _ = write!(ByteWriter(&mut self.head), "{method} {target} HTTP/1.1\r\n");
        for (name, value) in &self.headers {
            let _ = write!(ByteWriter(&mut self.head), "{name}: {value}\r\n");
        }
        if method == "PUT" || method == "POST" {
            let _ = write!(ByteWriter(&mut self.head), "content-length: {length}\r\n");
        }
        self.head.extend_from_slice(b"\r\n");

        if self.connection.is_none() {
            match self.connector.connect() {
                Ok(connection) => self.connection = Some(connection),
                Err(error) => {
                    on_send();
                    sent.get_or_insert_with(Instant::now);
                    return Err((error.kind().to_owned(), error.to_string()));
                }
            }
        }
        on_send();
        let now = Instant::now();
        sent.get_or_insert(now);
        let deadline = now + self.timeout;
        let connection = self.connection.as_mut().expect("connection opened above");
        match connection.exchange(&self.head, body, method == "HEAD", sink, deadline) {
            Ok(exchange) => {
                if exchange.head.close || connection.has_leftover() {
                    self.connection = None;
                }
                Ok(exchange)
            }
            Err(error) => {
                self.connection = None;
                Err((error.kind().to_owned(), error.to_string()))
            }
        }
    }
}

/// Lets `write!` append to a byte vector.
struct ByteWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for ByteWriter<'_> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.0.extend_from_slice(text.as_bytes());
        Ok(())
    }
}

fn expect_status(status: u16, accepted: &[u16]) -> Result<(), StepError> {
    if accepted.contains(&status) {
        Ok(())
    } else {
        Err((format!("status_{status}"), format!("status {status}")))
    }
}

fn expect_length(content_length: Option<u64>, expected: u64) -> Result<(), StepError> {
    match content_length {
        Some(length) if length == expected => Ok(()),
        other => Err((
            "length".to_owned(),
            format!("Content-Length {other:?}, expected {expected}"),
        )),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes))
}

/// Hashes generated content in bounded chunks, so a large body is never held whole.
fn generated_sha256_hex(seed: u64, offset: u64, length: u64) -> String {
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    let mut chunk = vec![0; 64 * 1024];
    let mut position = 0;
    while position < length {
        let take = (length - position).min(chunk.len() as u64) as usize;
        fill_content(seed, offset + position, &mut chunk[..take]);
        context.update(&chunk[..take]);
        position += take as u64;
    }
    hex::encode(context.finish())
}

/// Percent-encodes a query value; upload ids and prefixes are mostly URL-safe already.
fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    ironbucket_sigv4::canonical::uri_encode_into(&mut out, value.as_bytes());
    out
}

fn escape_xml(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// Returns the root element name of an XML document and the text of the first element named
/// `field`, if any.
fn xml_root_and_field(document: &[u8], field: &str) -> Result<(String, Option<String>), StepError> {
    let invalid = |message: String| ("xml".to_owned(), message);
    let mut reader = quick_xml::Reader::from_reader(document);
    let mut root = None;
    let mut inside_field = false;
    let mut value = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(element)) => {
                let name = String::from_utf8_lossy(element.local_name().as_ref()).into_owned();
                inside_field = name == field && value.is_none();
                root.get_or_insert(name);
            }
            Ok(Event::Empty(element)) => {
                root.get_or_insert_with(|| {
                    String::from_utf8_lossy(element.local_name().as_ref()).into_owned()
                });
            }
            Ok(Event::Text(text)) if inside_field => {
                let text = text
                    .decode()
                    .map_err(|error| invalid(error.to_string()))?
                    .into_owned();
                value = Some(text);
                inside_field = false;
            }
            Ok(Event::End(_)) => inside_field = false,
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(error) => return Err(invalid(error.to_string())),
        }
    }
    let root = root.ok_or_else(|| invalid("empty document".to_owned()))?;
    Ok((root, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_names_round_trip() {
        for op in Op::ALL {
            assert_eq!(Op::parse(op.name()), Some(op));
        }
    }

    #[test]
    fn xml_reads_root_and_field() {
        let document = b"<?xml version=\"1.0\"?><ListBucketResult><Name>b</Name><KeyCount>7</KeyCount></ListBucketResult>";
        let (root, count) = xml_root_and_field(document, "KeyCount").expect("valid XML");
        assert_eq!(root, "ListBucketResult");
        assert_eq!(count.as_deref(), Some("7"));
    }

    #[test]
    fn xml_error_document_root() {
        let document = b"<Error><Code>InternalError</Code></Error>";
        let (root, _) = xml_root_and_field(document, "ETag").expect("valid XML");
        assert_eq!(root, "Error");
    }

    #[test]
    fn generated_hash_matches_bytes() {
        let bytes = crate::content::content_bytes("k", 200_000);
        let expected = sha256_hex(&bytes);
        assert_eq!(
            generated_sha256_hex(content_seed("k"), 0, 200_000),
            expected
        );
    }
}
