//! Response building: the headers every S3 response carries, XML bodies and error documents.

use std::time::SystemTime;

use bytes::Bytes;
use ironbucket_http::{HeaderName, HeaderValue, Response, ResponseBody};
use ironbucket_s3::S3Error;
use ironbucket_s3::headers::format_http_date;

use super::Exchange;

/// A response under construction, with the request id and date headers already set.
pub(crate) struct ResponseBuilder {
    response: Response,
}

impl ResponseBuilder {
    pub fn new(exchange: &Exchange<'_>, status: u16) -> ResponseBuilder {
        ResponseBuilder {
            response: base_response(status, &exchange.request_id),
        }
    }

    pub fn header(mut self, name: impl Into<HeaderName>, value: impl Into<HeaderValue>) -> Self {
        self.response.headers.push((name.into(), value.into()));
        self
    }

    pub fn body(mut self, body: ResponseBody) -> Self {
        self.response.body = body;
        self
    }

    pub fn build(self) -> Response {
        self.response
    }
}

fn base_response(status: u16, request_id: &str) -> Response {
    Response::new(status)
        .with_header("x-amz-request-id", request_id.to_owned())
        .with_header("x-amz-id-2", request_id.to_owned())
        .with_header("date", format_http_date(SystemTime::now()))
        .with_header("server", "IronBucket")
}

/// A 200 response with an XML document as its body.
pub(crate) fn xml_response(exchange: &Exchange<'_>, xml: Vec<u8>) -> Response {
    ResponseBuilder::new(exchange, 200)
        .header("content-type", "application/xml")
        .body(ResponseBody::Full(Bytes::from(xml)))
        .build()
}

/// The S3 error document for a failed request. HEAD responses carry no body, so their
/// error code goes into a header as well, where clients that only see the status can read it.
pub(crate) fn error_response(exchange: &Exchange<'_>, mut error: S3Error) -> Response {
    if error.resource.is_none() {
        error.resource = exchange.route.as_ref().map(|route| route.resource());
    }
    let status = error.http_status();
    let xml = error.to_xml(&exchange.request_id);
    let mut builder = ResponseBuilder::new(exchange, status);
    if exchange.head.method == ironbucket_http::Method::Head {
        builder = builder.header("x-amz-error-code", error.code.as_str());
    }
    if xml.is_empty() {
        return builder.build();
    }
    builder
        .header("content-type", "application/xml")
        .body(ResponseBody::Full(Bytes::from(xml)))
        .build()
}

/// The error document for a request the HTTP layer rejected before it reached the gateway.
pub(crate) fn protocol_error_response(status: u16, error: &S3Error, request_id: &str) -> Response {
    base_response(status, request_id)
        .with_header("content-type", "application/xml")
        .with_body(ResponseBody::Full(Bytes::from(error.to_xml(request_id))))
}

/// The body length a response announces, for the audit record.
pub(crate) fn body_length(response: &Response) -> u64 {
    match &response.body {
        ResponseBody::Empty => 0,
        ResponseBody::Full(bytes) => bytes.len() as u64,
        ResponseBody::Stream { length, .. } => *length,
    }
}
