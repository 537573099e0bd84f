//! End-to-end framing, limit, timeout and lifecycle tests against a real server
//! on 127.0.0.1, with raw TCP clients so every byte on the wire is exact. Each
//! test runs twice: on the default driver and with `force_epoll`.

mod common;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

use common::{Client, Mode, get, request_with_body, start, test_config};
use ironbucket_http::{Driver, ListenerConfig, Server, ServerConfig, ServerError};

driver_tests! {
    fn drivers_reported_per_core(mode: Mode) {
        let server = start(test_config(mode));
        let drivers = server.drivers().to_vec();
        eprintln!("{mode:?}: drivers {drivers:?}");
        assert_eq!(drivers.len(), 2);
        if matches!(mode, Mode::ForcedEpoll) {
            assert!(drivers.iter().all(|d| *d == Driver::Epoll));
        } else {
            assert_eq!(drivers[0], drivers[1]);
        }
    }

    fn keep_alive_reuses_connection(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        for _ in 0..3 {
            client.send(&get("/object"));
            let response = client.response(false);
            assert_eq!(response.status, 200);
            assert_eq!(response.body, b"hello world");
            assert!(!response.closes());
        }
    }

    fn connection_close_honoured(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        client.send(b"GET /object HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        let response = client.response(false);
        assert!(response.closes());
        assert!(client.is_closed());
    }

    fn http10_closes_by_default(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        client.send(b"GET /object HTTP/1.0\r\n\r\n");
        let response = client.response(false);
        assert_eq!(response.status, 200);
        assert!(client.is_closed());
    }

    fn http10_keep_alive_on_request(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        client.send(b"GET /object HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        let response = client.response(false);
        assert_eq!(response.header("connection"), Some("keep-alive"));
        client.send(b"GET /object HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assert_eq!(client.response(false).status, 200);
    }

    fn three_pipelined_requests_in_order(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        let mut batch = request_with_body("PUT", "/echo", b"first");
        batch.extend(request_with_body("PUT", "/echo", b"second"));
        batch.extend(get("/object"));
        client.send(&batch);
        assert_eq!(client.response(false).body, b"first");
        assert_eq!(client.response(false).body, b"second");
        assert_eq!(client.response(false).body, b"hello world");
    }

    fn content_length_body_echoed(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        client.send(&request_with_body("PUT", "/echo", &body));
        let response = client.response(false);
        assert_eq!(response.body, body);
        // 200 000 bytes in 64 KiB pieces: the layer fills pieces to full size.
        assert_eq!(response.header("x-pieces"), Some("4"));
    }

    fn chunked_body_with_extensions_and_trailers(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        client.send(
            b"PUT /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
              5;chunk-signature=abc\r\nhello\r\n6;a=\"q;d\"\r\n world\r\n0\r\n\
              x-amz-checksum-crc32: AAAA\r\nx-other: 1\r\n\r\n",
        );
        let response = client.response(false);
        assert_eq!(response.body, b"hello world");
        assert_eq!(response.header("x-chunked"), Some("true"));
        assert_eq!(response.header("x-trailers"), Some("x-amz-checksum-crc32=AAAA;x-other=1"));
    }

    fn chunked_body_split_at_every_byte(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        let request: &[u8] = b"PUT /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
              3;x=y\r\nabc\r\n4\r\ndefg\r\n0\r\nx-t: v\r\n\r\n";
        for split in 1..request.len() {
            client.send(&request[..split]);
            std::thread::sleep(Duration::from_millis(2));
            client.send(&request[split..]);
            let response = client.response(false);
            assert_eq!(response.body, b"abcdefg", "split at {split}");
        }
    }

    fn malformed_chunked_reported_to_service(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        client.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
        let response = client.response(false);
        assert_eq!(response.header("x-body-error"), Some("malformed"));
        assert!(response.closes());
    }

    fn continue_sent_when_body_read(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        client.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        let interim = client.response(false);
        assert_eq!(interim.status, 100);
        client.send(b"hello");
        let response = client.response(false);
        assert_eq!(response.body, b"hello");
        assert!(!response.closes());
    }

    fn continue_withheld_when_rejected(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        client.send(b"PUT /reject HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        let response = client.response(false);
        assert_eq!(response.status, 403);
        assert!(response.closes());
        assert!(client.is_closed());
    }

    fn unread_small_body_drained(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        client.send(&request_with_body("PUT", "/reject", &[b'x'; 10_000]));
        let response = client.response(false);
        assert_eq!(response.status, 403);
        assert!(!response.closes());
        client.send(&get("/object"));
        assert_eq!(client.response(false).body, b"hello world");
    }

    fn unread_large_body_closes(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        client.send(b"PUT /reject HTTP/1.1\r\nHost: t\r\nContent-Length: 10000000\r\n\r\nabc");
        let response = client.response(false);
        assert_eq!(response.status, 403);
        assert!(response.closes());
    }

    fn partly_read_body_drained(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        client.send(&request_with_body("PUT", "/read-one", &[b'x'; 100_000]));
        let response = client.response(false);
        assert_eq!(response.body, b"read one");
        client.send(&get("/object"));
        assert_eq!(client.response(false).body, b"hello world");
    }

    fn head_response_has_no_body(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        client.send(b"HEAD /object HTTP/1.1\r\nHost: t\r\n\r\n");
        let response = client.response(true);
        assert_eq!(response.header("content-length"), Some("11"));
        // A body sent after the HEAD response would be read as the next response.
        client.send(&get("/object"));
        let next = client.response(false);
        assert_eq!(next.body, b"hello world");
    }

    fn oversized_head_gets_431(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        let request = format!("GET / HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n", "a".repeat(20_000));
        client.send(request.as_bytes());
        let response = client.response(false);
        assert_eq!(response.status, 431);
        assert_eq!(response.header("x-protocol-error"), Some("1"));
        assert!(client.is_closed());
    }

    fn too_many_headers_gets_431(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        let mut request = String::from("GET / HTTP/1.1\r\nHost: t\r\n");
        for i in 0..101 {
            request.push_str(&format!("X-H{i}: v\r\n"));
        }
        request.push_str("\r\n");
        client.send(request.as_bytes());
        assert_eq!(client.response(false).status, 431);
    }

    fn long_target_gets_414(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        let request = format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(9000));
        client.send(request.as_bytes());
        assert_eq!(client.response(false).status, 414);
    }

    fn garbage_request_line_gets_400(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        client.send(b"GARBAGE\r\n\r\n");
        let response = client.response(false);
        assert_eq!(response.status, 400);
        assert!(client.is_closed());
    }

    fn gzip_transfer_encoding_gets_501(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        client.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n");
        assert_eq!(client.response(false).status, 501);
    }

    fn smuggling_attempts_get_400(mode: Mode) {
        let cases: [&[u8]; 7] = [
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n",
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4, 5\r\n\r\nabcde",
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n",
            b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
            b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
        ];
        let server = start(test_config(mode));
        for (index, case) in cases.iter().enumerate() {
            let mut client = Client::new(server.local_addrs()[0]);
            client.send(case);
            let response = client.response(false);
            assert_eq!(response.status, 400, "case {index}");
            assert!(client.is_closed(), "case {index} left the connection open");
        }
    }

    fn transfer_coding_after_chunked_gets_501(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        client.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n");
        assert_eq!(client.response(false).status, 501);
    }

    fn http2_preface_closes(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        client.send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        assert!(client.is_closed());
    }

    fn stalled_head_gets_408(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        let started = Instant::now();
        client.send(b"GET /object HTTP/1.1\r\nHost: t\r\n");
        let response = client.response(false);
        assert_eq!(response.status, 408);
        assert!(started.elapsed() >= Duration::from_millis(250));
        assert!(client.is_closed());
    }

    fn silent_connection_closed(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        let started = Instant::now();
        assert!(client.is_closed());
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    fn idle_keep_alive_closed(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        client.send(&get("/object"));
        assert_eq!(client.response(false).status, 200);
        let started = Instant::now();
        assert!(client.is_closed());
        let idle = started.elapsed();
        assert!(idle >= Duration::from_millis(350), "closed after {idle:?}");
    }

    fn stalled_body_times_out(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        client.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
        let response = client.response(false);
        assert_eq!(response.header("x-body-error"), Some("timeout"));
        assert!(response.closes());
    }

    fn client_closing_mid_body(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        client.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc");
        client.stream.shutdown(Shutdown::Write).unwrap();
        let response = client.response(false);
        assert_eq!(response.header("x-body-error"), Some("incomplete"));
        assert!(client.is_closed());
    }

    fn client_closing_mid_chunked_body(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        client.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc");
        client.stream.shutdown(Shutdown::Write).unwrap();
        let response = client.response(false);
        assert_eq!(response.header("x-body-error"), Some("incomplete"));
    }

    fn unread_response_times_out(mode: Mode) {
        let server = start(test_config(mode));
        let stream = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        stream.set_recv_buffer_size(4096).unwrap();
        stream.connect(&server.local_addrs()[0].into()).unwrap();
        let mut stream: std::net::TcpStream = stream.into();
        stream.write_all(&get("/stream?52428800")).unwrap();
        // Never read while the server writes, so its writes stall.
        std::thread::sleep(Duration::from_millis(1500));
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut total = 0usize;
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            match stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(read) => total += read,
                Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => break,
                Err(error) => panic!("read failed after {total} bytes: {error}"),
            }
        }
        assert!(total < 50 * 1024 * 1024, "received the whole body ({total} bytes)");
    }

    fn short_stream_closes_connection(mode: Mode) {
        let server = start(test_config(mode));
        let mut client = Client::new(server.local_addrs()[0]);
        client.send(&get("/short-stream"));
        let mut received = Vec::new();
        let _ = client.stream.read_to_end(&mut received);
        let text = String::from_utf8_lossy(&received);
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text.contains("content-length: 100\r\n"));
        let body_len = received.len() - text.find("\r\n\r\n").unwrap() - 4;
        assert_eq!(body_len, 50);
    }

    fn graceful_shutdown_finishes_request(mode: Mode) {
        let server = start(test_config(mode));
        let addr = server.local_addrs()[0];
        let mut idle = Client::new(addr);
        idle.send(&get("/object"));
        assert_eq!(idle.response(false).status, 200);
        let mut busy = Client::new(addr);
        busy.send(&get("/slow?500"));
        std::thread::sleep(Duration::from_millis(100));
        let handle = server.shutdown_handle();
        let stopper = std::thread::spawn(move || handle.shutdown());
        let report = server.wait(Duration::from_secs(5));
        stopper.join().unwrap();
        assert!(report.drained);
        assert_eq!(report.connections_cut, 0);
        let response = busy.response(false);
        assert_eq!(response.body, b"slow done");
        assert!(response.closes());
        assert!(idle.is_closed());
        assert!(std::net::TcpStream::connect(addr).is_err());
    }

    fn shutdown_deadline_cuts_connections(mode: Mode) {
        let server = start(test_config(mode));
        let mut busy = Client::new(server.local_addrs()[0]);
        busy.send(&get("/slow?5000"));
        std::thread::sleep(Duration::from_millis(100));
        server.shutdown();
        let report = server.wait(Duration::from_millis(200));
        assert!(!report.drained);
        assert_eq!(report.connections_cut, 1);
        assert!(report.elapsed < Duration::from_secs(3));
        assert!(busy.is_closed());
    }

    fn dropped_server_closes_connections(mode: Mode) {
        let server = start(test_config(mode));
        let mut busy = Client::new(server.local_addrs()[0]);
        busy.send(&get("/slow?5000"));
        std::thread::sleep(Duration::from_millis(100));
        let started = Instant::now();
        drop(server);
        assert!(busy.is_closed());
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    fn busy_core_sends_503(mode: Mode) {
        let mut config = test_config(mode);
        config.cores = 1;
        config.max_connections_per_core = 1;
        let server = start(config);
        let mut first = Client::new(server.local_addrs()[0]);
        first.send(&get("/object"));
        assert_eq!(first.response(false).status, 200);
        let mut second = Client::new(server.local_addrs()[0]);
        second.send(&get("/object"));
        let response = second.response(false);
        assert_eq!(response.status, 503);
        assert!(response.closes());
    }

    fn occupied_port_fails_loudly(mode: Mode) {
        let server = start(test_config(mode));
        let addr = server.local_addrs()[0];
        let mut config = test_config(mode);
        config.listeners = vec![ListenerConfig::plain(addr)];
        let error = Server::start(config, |_| common::TestService).err().expect("second server fails");
        assert!(matches!(error, ServerError::AddressInUse { addr: a } if a == addr));
        assert!(error.to_string().starts_with(&format!("address {addr} is already in use")));
    }
}

#[test]
fn port_held_by_plain_socket_rejected() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = holder.local_addr().unwrap();
    let config = ServerConfig::new(vec![ListenerConfig::plain(addr)]);
    let result = Server::start(config, |_| common::TestService);
    assert!(matches!(result, Err(ServerError::AddressInUse { .. })));
}

#[test]
fn zero_cores_rejected() {
    let mut config = test_config(Mode::ForcedEpoll);
    config.cores = 0;
    let result = Server::start(config, |_| common::TestService);
    assert!(matches!(result, Err(ServerError::InvalidConfig(_))));
}

#[test]
fn listeners_on_two_ports() {
    let mut config = test_config(Mode::DefaultDriver);
    config
        .listeners
        .push(ListenerConfig::plain("127.0.0.1:0".parse().unwrap()));
    let server = start(config);
    let addrs = server.local_addrs().to_vec();
    assert_ne!(addrs[0].port(), addrs[1].port());
    for addr in addrs {
        let mut client = Client::new(addr);
        client.send(&get("/object"));
        assert_eq!(client.response(false).status, 200);
    }
}
