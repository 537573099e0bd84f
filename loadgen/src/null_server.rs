//! The null server: answers every request with a fixed small S3-looking response, so the
//! generator can be measured against a target that costs almost nothing.
//!
//! GET and HEAD return an empty object (`Content-Length: 0` and the MD5 ETag of no bytes),
//! PUT returns that ETag, DELETE returns 204, a ListObjectsV2 returns a one-key listing, and
//! the two multipart POSTs return their result documents. Run the generator against it with
//! `--size 0`, so that GET's content check expects the empty body it sends.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use crate::error::LoadgenError;

const EMPTY_ETAG: &str = "\"d41d8cd98f00b204e9800998ecf8427e\"";
const MAX_REQUEST_HEAD: usize = 64 * 1024;

/// Binds the listener, rejecting addresses outside loopback.
pub fn bind(listen: &str) -> Result<TcpListener, LoadgenError> {
    let address: SocketAddr = listen
        .parse()
        .map_err(|_| LoadgenError::invalid("--listen", format!("{listen:?} is not IP:PORT")))?;
    if !address.ip().is_loopback() {
        return Err(LoadgenError::invalid(
            "--listen",
            format!("{address} is not a loopback address"),
        ));
    }
    TcpListener::bind(address).map_err(|source| LoadgenError::Io {
        context: format!("cannot listen on {address}"),
        source,
    })
}

/// Serves connections forever, one thread each, sleeping `delay` before every response.
pub fn serve(listener: TcpListener, delay: Duration) -> Result<(), LoadgenError> {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        std::thread::Builder::new()
            .name("null-conn".to_owned())
            .spawn(move || {
                // A connection ends when the client closes it or sends something invalid.
                let _ = serve_connection(stream, delay);
            })
            .map_err(|source| LoadgenError::Io {
                context: "cannot start a connection thread".to_owned(),
                source,
            })?;
    }
    Ok(())
}

fn serve_connection(mut stream: TcpStream, delay: Duration) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buffer = vec![0_u8; 64 * 1024];
    let mut filled = 0;
    loop {
        let (head_length, response, body_length) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut request = httparse::Request::new(&mut headers);
            match request.parse(&buffer[..filled]) {
                Ok(httparse::Status::Complete(length)) => {
                    let body_length = request
                        .headers
                        .iter()
                        .find(|header| header.name.eq_ignore_ascii_case("content-length"))
                        .and_then(|header| {
                            std::str::from_utf8(header.value)
                                .ok()?
                                .trim()
                                .parse::<u64>()
                                .ok()
                        })
                        .unwrap_or(0);
                    let response =
                        respond(request.method.unwrap_or(""), request.path.unwrap_or("/"));
                    break (length, response, body_length);
                }
                Ok(httparse::Status::Partial) => {
                    if filled >= MAX_REQUEST_HEAD {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "request head too long",
                        ));
                    }
                    let read = stream.read(&mut buffer[filled..])?;
                    if read == 0 {
                        return Ok(());
                    }
                    filled += read;
                }
                Err(error) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        error.to_string(),
                    ));
                }
            }
        };
        // Discard the body, part of which may already be buffered.
        let buffered_body = (filled - head_length) as u64;
        let mut remaining = body_length.saturating_sub(buffered_body);
        let consumed = head_length + body_length.min(buffered_body) as usize;
        buffer.copy_within(consumed..filled, 0);
        filled -= consumed;
        while remaining > 0 {
            let take = remaining.min(buffer.len() as u64) as usize;
            let read = stream.read(&mut buffer[..take])?;
            if read == 0 {
                return Ok(());
            }
            remaining -= read as u64;
        }
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        stream.write_all(response.as_bytes())?;
    }
}

/// Builds the fixed response for a request.
fn respond(method: &str, target: &str) -> String {
    let query = target.split_once('?').map_or("", |(_, query)| query);
    let has = |name: &str| {
        query
            .split('&')
            .any(|parameter| parameter.split('=').next() == Some(name))
    };
    let (status, body) = match method {
        "DELETE" => ("204 No Content", String::new()),
        "POST" if has("uploads") => (
            "200 OK",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><InitiateMultipartUploadResult>\
             <Bucket>null</Bucket><Key>null</Key><UploadId>null-upload</UploadId>\
             </InitiateMultipartUploadResult>"
                .to_owned(),
        ),
        "POST" => (
            "200 OK",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><CompleteMultipartUploadResult>\
                 <Bucket>null</Bucket><Key>null</Key><ETag>{}</ETag></CompleteMultipartUploadResult>",
                EMPTY_ETAG.replace('"', "&quot;")
            ),
        ),
        "GET" if has("list-type") => (
            "200 OK",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult><Name>null</Name>\
             <KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>\
             <Contents><Key>null</Key><Size>0</Size></Contents></ListBucketResult>"
                .to_owned(),
        ),
        _ => ("200 OK", String::new()),
    };
    let mut response = format!(
        "HTTP/1.1 {status}\r\nserver: ironbucket-loadgen-null\r\nx-amz-request-id: 0\r\n\
         etag: {EMPTY_ETAG}\r\n"
    );
    if status.starts_with("200") {
        response.push_str(&format!("content-length: {}\r\n", body.len()));
        if !body.is_empty() {
            response.push_str("content-type: application/xml\r\n");
        }
    }
    response.push_str("\r\n");
    if method != "HEAD" {
        response.push_str(&body);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delete_gets_no_content() {
        assert!(respond("DELETE", "/b/k").starts_with("HTTP/1.1 204"));
    }

    #[test]
    fn list_gets_listing() {
        assert!(respond("GET", "/b?list-type=2&max-keys=10").contains("<KeyCount>1</KeyCount>"));
    }

    #[test]
    fn head_has_no_body() {
        assert!(respond("HEAD", "/b?list-type=2").ends_with("\r\n\r\n"));
    }

    #[test]
    fn remote_listen_rejected() {
        assert!(bind("0.0.0.0:0").is_err());
    }
}
