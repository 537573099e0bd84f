//! TLS tests: a self-signed certificate made with rcgen, loaded from PEM files
//! with `tls::load_server_config`, and a rustls client over a std TCP stream.
//! Each server test runs on the default driver and with `force_epoll`.

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use common::{TestService, test_config};
use ironbucket_http::tls::{TlsConfigError, load_server_config};
use ironbucket_http::{ListenerConfig, Server};

struct Pem {
    _dir: tempfile::TempDir,
    cert: PathBuf,
    key: PathBuf,
    cert_der: rustls::pki_types::CertificateDer<'static>,
}

fn self_signed() -> Pem {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    Pem {
        _dir: dir,
        cert,
        key,
        cert_der: certified.cert.der().clone(),
    }
}

fn tls_client(
    addr: SocketAddr,
    pem: &Pem,
) -> rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pem.cert_der.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name = "localhost".try_into().unwrap();
    let connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    rustls::StreamOwned::new(connection, stream)
}

/// Reads one Content-Length response from a TLS stream and returns its text.
fn read_response(stream: &mut impl Read) -> String {
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some(head_end) = text.find("\r\n\r\n") {
            let length: usize = text
                .lines()
                .find_map(|line| line.strip_prefix("content-length: "))
                .map_or(0, |value| value.trim().parse().unwrap());
            if received.len() >= head_end + 4 + length {
                return text;
            }
        }
        let read = stream.read(&mut chunk).expect("read TLS response");
        assert!(read > 0, "connection closed before the response ended");
        received.extend_from_slice(&chunk[..read]);
    }
}

driver_tests! {
    fn tls_request_served(mode: Mode) {
        let pem = self_signed();
        let tls = load_server_config(&pem.cert, &pem.key).unwrap();
        let mut config = test_config(mode);
        config.listeners = vec![ListenerConfig::tls("127.0.0.1:0".parse().unwrap(), tls)];
        let server = Server::start(config, |_| TestService).unwrap();
        let mut client = tls_client(server.local_addrs()[0], &pem);
        client
            .write_all(b"PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\nsecret")
            .unwrap();
        let response = read_response(&mut client);
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(response.ends_with("\r\n\r\nsecret"));
        assert_eq!(client.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
    }

    fn tls_keep_alive_second_request(mode: Mode) {
        let pem = self_signed();
        let tls = load_server_config(&pem.cert, &pem.key).unwrap();
        let mut config = test_config(mode);
        config.listeners = vec![ListenerConfig::tls("127.0.0.1:0".parse().unwrap(), tls)];
        let server = Server::start(config, |_| TestService).unwrap();
        let mut client = tls_client(server.local_addrs()[0], &pem);
        for _ in 0..2 {
            client.write_all(b"GET /object HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
            let response = read_response(&mut client);
            assert!(response.ends_with("hello world"));
        }
    }

    fn tls_and_plain_ports_together(mode: Mode) {
        let pem = self_signed();
        let tls = load_server_config(&pem.cert, &pem.key).unwrap();
        let mut config = test_config(mode);
        config.listeners.push(ListenerConfig::tls("127.0.0.1:0".parse().unwrap(), tls));
        let server = Server::start(config, |_| TestService).unwrap();
        let mut plain = common::Client::new(server.local_addrs()[0]);
        plain.send(&common::get("/object"));
        assert_eq!(plain.response(false).status, 200);
        let mut secure = tls_client(server.local_addrs()[1], &pem);
        secure.write_all(b"GET /object HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
        assert!(read_response(&mut secure).ends_with("hello world"));
    }

    fn plain_bytes_on_tls_port_closed(mode: Mode) {
        let pem = self_signed();
        let tls = load_server_config(&pem.cert, &pem.key).unwrap();
        let mut config = test_config(mode);
        config.listeners = vec![ListenerConfig::tls("127.0.0.1:0".parse().unwrap(), tls)];
        let server = Server::start(config, |_| TestService).unwrap();
        let mut client = common::Client::new(server.local_addrs()[0]);
        client.send(&common::get("/object"));
        let mut received = Vec::new();
        let _ = client.stream.read_to_end(&mut received);
        assert!(!received.starts_with(b"HTTP/1.1 200"));
    }
}

#[test]
fn missing_certificate_file_named() {
    let pem = self_signed();
    let missing = pem.cert.with_file_name("absent.pem");
    let error = load_server_config(&missing, &pem.key).unwrap_err();
    assert!(error.to_string().contains("absent.pem"));
}

#[test]
fn key_file_without_key_rejected() {
    let pem = self_signed();
    let error = load_server_config(&pem.cert, &pem.cert).unwrap_err();
    assert!(matches!(error, TlsConfigError::NoPrivateKey { .. }));
}

#[test]
fn cert_file_without_cert_rejected() {
    let pem = self_signed();
    let error = load_server_config(&pem.key, &pem.key).unwrap_err();
    assert!(matches!(error, TlsConfigError::NoCertificate { .. }));
}
