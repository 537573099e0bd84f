//! Helpers for the load generator's integration tests: the real binary, the null server it
//! ships, and small misbehaving servers written here.

#![allow(dead_code)]

use std::io::{BufRead as _, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;

/// Path of the binary under test.
pub const BINARY: &str = env!("CARGO_BIN_EXE_ironbucket-loadgen");

/// A child process killed when dropped.
pub struct ChildGuard {
    child: Child,
    /// The address it listens on.
    pub address: String,
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ChildGuard {
    /// Returns the server's URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Returns the process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// Starts `ironbucket-loadgen null-server` on a free loopback port, with `extra` options.
pub fn null_server(extra: &[&str]) -> ChildGuard {
    let mut child = Command::new(BINARY)
        .args(["null-server", "--listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the null server");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the address line");
    let address = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    ChildGuard { child, address }
}

/// Runs the binary with `args` and returns its output.
pub fn loadgen(args: &[&str]) -> Output {
    Command::new(BINARY)
        .args(args)
        .output()
        .expect("run ironbucket-loadgen")
}

/// Returns the exit code, failing the test when the process was killed by a signal.
pub fn exit_code(output: &Output) -> i32 {
    output.status.code().unwrap_or_else(|| {
        panic!(
            "killed by a signal; stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Reads a JSON file written by `--json`.
pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read(path).expect("read the JSON report");
    serde_json::from_slice(&text).expect("valid JSON")
}

/// Returns `output`'s stdout and stderr, for assertion messages.
pub fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Starts a server on a free loopback port that sends `respond`'s output for each request
/// head, on one thread per connection, for as long as the test runs.
pub fn scripted_server(respond: fn(&str) -> Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let address = listener.local_addr().expect("local address").to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            std::thread::spawn(move || serve_scripted(stream, respond));
        }
    });
    format!("http://{address}")
}

fn serve_scripted(mut stream: impl Read + Write, respond: fn(&str) -> Vec<u8>) {
    let mut buffer = Vec::new();
    let mut chunk = [0_u8; 4096];
    loop {
        let head_end = loop {
            if let Some(position) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
                break position + 4;
            }
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(read) => buffer.extend_from_slice(&chunk[..read]),
            }
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
        let body_length: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0);
        while buffer.len() < head_end + body_length {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(read) => buffer.extend_from_slice(&chunk[..read]),
            }
        }
        buffer.drain(..head_end + body_length);
        if stream.write_all(&respond(&head)).is_err() {
            return;
        }
    }
}

/// A TLS server started by [`tls_server`], with the PEM file of its self-signed certificate.
pub struct TlsServer {
    /// `https://localhost:PORT`.
    pub url: String,
    /// PEM file of the certificate, which is its own CA.
    pub ca_file: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// Starts an HTTPS server on a free loopback port with a self-signed certificate for
/// `localhost`, sending `respond`'s output for each request head.
pub fn tls_server(respond: fn(&str) -> Vec<u8>) -> TlsServer {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .expect("generate a certificate");
    let dir = tempfile::tempdir().expect("temporary directory");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, certified.cert.pem()).expect("write the certificate");
    let key = rustls::pki_types::PrivateKeyDer::try_from(certified.signing_key.serialize_der())
        .expect("valid private key");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .expect("server certificate");
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("local address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let config = config.clone();
            std::thread::spawn(move || {
                let Ok(connection) = rustls::ServerConnection::new(config) else {
                    return;
                };
                serve_scripted(rustls::StreamOwned::new(connection, stream), respond);
            });
        }
    });
    TlsServer {
        url: format!("https://localhost:{port}"),
        ca_file,
        _dir: dir,
    }
}
