//! Request bodies: uploads streamed through the payload verifier into a backend write, and the
//! small XML documents some operations carry, read whole under a size limit.
//!
//! Nothing unverified becomes visible: the verifier forwards bytes before the end of the body
//! proves them good, so the backend write is committed only after `finish` succeeds, and any
//! error drops the write handle, which aborts it.

use bytes::{Bytes, BytesMut};
use ironbucket_adapters::{ObjectMeta, PutHandle};
use ironbucket_http::{Body, BodyError};
use ironbucket_s3::ErrorCode;
use ironbucket_sigv4::{PayloadSummary, PayloadVerifier};

use super::auth::payload_error;
use super::{Exchange, RequestError};

/// Streams the request body into `handle`, verifying it on the way, and commits the write.
pub(crate) async fn stream_upload(
    exchange: &mut Exchange<'_>,
    body: &mut Body<'_>,
    mut payload: PayloadVerifier,
    mut handle: PutHandle,
    max_bytes: u64,
) -> Result<(ObjectMeta, PayloadSummary), RequestError> {
    let mut decoded = Vec::new();
    let mut total: u64 = 0;
    while let Some(chunk) = body.next_chunk().await.map_err(body_error)? {
        exchange.bytes_in += chunk.len() as u64;
        payload.push(chunk, &mut decoded).map_err(payload_error)?;
        for piece in decoded.drain(..) {
            total += piece.len() as u64;
            if total > max_bytes {
                return Err(entity_too_large(max_bytes));
            }
            handle.send(piece).await?;
        }
    }
    let summary = payload.finish().map_err(payload_error)?;
    // The verifier has already compared Content-MD5, so the adapter need not compare again.
    let meta = handle.commit(None).await?;
    Ok((meta, summary))
}

/// Reads and verifies a whole request body of at most `max_bytes` decoded bytes.
pub(crate) async fn read_xml_body(
    exchange: &mut Exchange<'_>,
    body: &mut Body<'_>,
    mut payload: PayloadVerifier,
    max_bytes: usize,
) -> Result<Bytes, RequestError> {
    if body
        .declared_length()
        .is_some_and(|length| length > max_bytes as u64)
    {
        return Err(RequestError::message(
            ErrorCode::MaxMessageLengthExceeded,
            format!("Your request body is larger than the maximum of {max_bytes} bytes."),
        ));
    }
    let mut decoded = Vec::new();
    let mut document = BytesMut::new();
    while let Some(chunk) = body.next_chunk().await.map_err(body_error)? {
        exchange.bytes_in += chunk.len() as u64;
        payload.push(chunk, &mut decoded).map_err(payload_error)?;
        for piece in decoded.drain(..) {
            if document.len() + piece.len() > max_bytes {
                return Err(RequestError::message(
                    ErrorCode::MaxMessageLengthExceeded,
                    format!("Your request body is larger than the maximum of {max_bytes} bytes."),
                ));
            }
            document.extend_from_slice(&piece);
        }
    }
    payload.finish().map_err(payload_error)?;
    Ok(document.freeze())
}

pub(crate) fn entity_too_large(max_bytes: u64) -> RequestError {
    RequestError::client(
        ironbucket_s3::S3Error::with_message(
            ErrorCode::EntityTooLarge,
            "Your proposed upload exceeds the maximum allowed object size.",
        )
        .extra("MaxSizeAllowed", max_bytes.to_string()),
    )
}

fn body_error(error: BodyError) -> RequestError {
    match error {
        BodyError::TimedOut => RequestError::message(
            ErrorCode::RequestTimeout,
            "Your socket connection to the server was not read from or written to within the timeout period.",
        ),
        BodyError::IncompleteBody { .. } => RequestError::message(
            ErrorCode::IncompleteBody,
            "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        ),
        BodyError::MalformedChunked { reason } => RequestError::message(
            ErrorCode::InvalidRequest,
            format!("The chunked request body is malformed: {reason}."),
        ),
        other => RequestError::message(ErrorCode::IncompleteBody, other.to_string()),
    }
}
