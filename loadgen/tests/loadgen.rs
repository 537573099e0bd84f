//! End-to-end tests of `ironbucket-loadgen`: the real binary against its own null server and
//! against small servers that are slow, or respond with wrong bodies or errors.
//!
//! Timing bounds are generous on purpose: the tests share two cores with other builds, so
//! they check that a measurement lands in the right range, not that it is tight.

mod support;

use std::time::Duration;

use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use ironbucket_loadgen::content::content_bytes;
use support::{describe, exit_code, loadgen, null_server, read_json, scripted_server};

/// Options that make GETs against the null server succeed: empty objects, no prepare phase
/// and no credentials.
const NULL_WORKLOAD: [&str; 5] = ["--anonymous", "--size", "0", "--no-prepare", "--quiet"];

fn run_args<'a>(url: &'a str, json: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["run", "--target", url, "--json", json];
    args.extend_from_slice(&NULL_WORKLOAD);
    args.extend_from_slice(extra);
    args
}

fn temp_path(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).to_string_lossy().into_owned()
}

fn first_phase(report: &serde_json::Value) -> &serde_json::Value {
    &report["results"][0]["repetitions"][0]
}

fn op_result<'a>(phase: &'a serde_json::Value, op: &str) -> &'a serde_json::Value {
    phase["ops"]
        .as_array()
        .expect("ops array")
        .iter()
        .find(|result| result["op"] == op)
        .unwrap_or_else(|| panic!("no {op} in {phase}"))
}

fn number(value: &serde_json::Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{value} is not a number"))
}

#[test]
fn schedule_accuracy_against_null_server() {
    let server = null_server(&[]);
    let dir = tempfile::tempdir().expect("temporary directory");
    let json = temp_path(&dir, "run.json");
    let url = server.url();

    let output = loadgen(&run_args(
        &url,
        &json,
        &[
            "--rate",
            "500",
            "--duration",
            "2s",
            "--connections",
            "4",
            "--allow-late",
        ],
    ));
    assert_eq!(exit_code(&output), 0, "{}", describe(&output));

    let report = read_json(json.as_ref());
    let phase = first_phase(&report);
    assert_eq!(phase["requests"], 1000);
    // Intended versus actual send time: most sends must be well inside a millisecond.
    let lag_p50 = number(&phase["send_lag"]["p50_us"]);
    assert!(lag_p50 < 1_000.0, "send lag p50 {lag_p50} us");
    let rate = number(&op_result(phase, "get")["rate"]);
    assert!((400.0..600.0).contains(&rate), "achieved {rate}/s of 500/s");
}

#[test]
fn synthetic_delay_sets_percentiles() {
    let server = null_server(&["--delay", "20ms"]);
    let dir = tempfile::tempdir().expect("temporary directory");
    let json = temp_path(&dir, "run.json");
    let url = server.url();

    let output = loadgen(&run_args(
        &url,
        &json,
        &[
            "--rate",
            "50",
            "--duration",
            "2s",
            "--connections",
            "8",
            "--allow-late",
        ],
    ));
    assert_eq!(exit_code(&output), 0, "{}", describe(&output));

    let report = read_json(json.as_ref());
    let response = &op_result(first_phase(&report), "get")["response"];
    let p50 = number(&response["p50_us"]);
    let p99 = number(&response["p99_us"]);
    assert!(p50 >= 20_000.0, "p50 {p50} us is below the 20 ms delay");
    assert!(p50 < 40_000.0, "p50 {p50} us is far above the 20 ms delay");
    assert!(p99 >= 20_000.0, "p99 {p99} us is below the 20 ms delay");
    assert!(p99 < 120_000.0, "p99 {p99} us is far above the 20 ms delay");
}

#[test]
fn queueing_delay_reaches_response_time() {
    // One connection and a 20 ms server can serve 50 requests per second; offering 100 per
    // second builds a queue. The service time stays near 20 ms while the response time,
    // counted from the intended send time, grows with the queue.
    let server = null_server(&["--delay", "20ms"]);
    let dir = tempfile::tempdir().expect("temporary directory");
    let json = temp_path(&dir, "run.json");
    let url = server.url();

    let output = loadgen(&run_args(
        &url,
        &json,
        &[
            "--rate",
            "100",
            "--duration",
            "2s",
            "--connections",
            "1",
            "--allow-late",
        ],
    ));
    assert_eq!(exit_code(&output), 0, "{}", describe(&output));

    let report = read_json(json.as_ref());
    let phase = first_phase(&report);
    let get = op_result(phase, "get");
    let service_p50 = number(&get["service"]["p50_us"]);
    let response_p50 = number(&get["response"]["p50_us"]);
    assert!(service_p50 < 60_000.0, "service p50 {service_p50} us");
    assert!(
        response_p50 > 3.0 * service_p50,
        "response p50 {response_p50} us does not include queueing (service p50 {service_p50} us)"
    );
    assert!(
        number(&phase["queued"]) > 100.0,
        "queued {}",
        phase["queued"]
    );
}

#[test]
fn late_sends_invalidate_run() {
    // Generating and hashing a 256 KiB body before each PUT takes well over 100 us, and two
    // connections at 500 requests per second leave no slack, so the generator falls behind
    // on purpose.
    let server = null_server(&[]);
    let dir = tempfile::tempdir().expect("temporary directory");
    let json = temp_path(&dir, "run.json");
    let url = server.url();
    let args = [
        "run",
        "--target",
        &url,
        "--json",
        &json,
        "--anonymous",
        "--no-prepare",
        "--quiet",
        "--mix",
        "put",
        "--size",
        "256KiB",
        "--payload",
        "sha256",
        "--rate",
        "500",
        "--duration",
        "1s",
        "--connections",
        "2",
    ];

    let output = loadgen(&args);
    assert_eq!(exit_code(&output), 3, "{}", describe(&output));

    let report = read_json(json.as_ref());
    let phase = first_phase(&report);
    assert!(
        number(&phase["late_fraction"]) > 0.001,
        "late fraction {}",
        phase["late_fraction"]
    );
    assert_eq!(phase["valid"], false);
    assert_eq!(report["valid"], false);
}

#[test]
fn allow_late_keeps_exit_zero() {
    let server = null_server(&[]);
    let dir = tempfile::tempdir().expect("temporary directory");
    let json = temp_path(&dir, "run.json");
    let url = server.url();
    let args = [
        "run",
        "--target",
        &url,
        "--json",
        &json,
        "--anonymous",
        "--no-prepare",
        "--quiet",
        "--mix",
        "put",
        "--size",
        "256KiB",
        "--rate",
        "500",
        "--duration",
        "1s",
        "--connections",
        "2",
        "--allow-late",
    ];

    let output = loadgen(&args);
    assert_eq!(exit_code(&output), 0, "{}", describe(&output));
}

#[test]
fn passing_gates_exit_zero() {
    let server = null_server(&[]);
    let dir = tempfile::tempdir().expect("temporary directory");
    let json = temp_path(&dir, "run.json");
    let url = server.url();

    let output = loadgen(&run_args(
        &url,
        &json,
        &[
            "--rate",
            "200",
            "--duration",
            "1s",
            "--allow-late",
            "--assert",
            "get.p99<10s",
            "--assert",
            "all.error_rate<1%",
            "--assert",
            "get.rate>50",
        ],
    ));
    assert_eq!(exit_code(&output), 0, "{}", describe(&output));

    let report = read_json(json.as_ref());
    assert_eq!(report["gates"].as_array().map(Vec::len), Some(3));
    assert!(
        report["gates"]
            .as_array()
            .expect("gates")
            .iter()
            .all(|gate| gate["passed"] == true)
    );
}

#[test]
fn failing_gate_exits_one() {
    let server = null_server(&[]);
    let dir = tempfile::tempdir().expect("temporary directory");
    let json = temp_path(&dir, "run.json");
    let url = server.url();

    let output = loadgen(&run_args(
        &url,
        &json,
        &[
            "--rate",
            "100",
            "--duration",
            "1s",
            "--allow-late",
            "--assert",
            "get.p50<1us",
        ],
    ));
    assert_eq!(exit_code(&output), 1, "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("FAIL get.p50<1us"));
}

#[test]
fn gate_on_missing_op_fails() {
    let server = null_server(&[]);
    let dir = tempfile::tempdir().expect("temporary directory");
    let json = temp_path(&dir, "run.json");
    let url = server.url();

    let output = loadgen(&run_args(
        &url,
        &json,
        &[
            "--rate",
            "100",
            "--duration",
            "1s",
            "--allow-late",
            "--assert",
            "put.p99<10s",
        ],
    ));
    assert_eq!(exit_code(&output), 1, "{}", describe(&output));
}

#[test]
fn invalid_gate_exits_two() {
    let output = loadgen(&[
        "run",
        "--target",
        "http://127.0.0.1:9",
        "--anonymous",
        "--assert",
        "get.p99<2",
    ]);
    assert_eq!(exit_code(&output), 2, "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("needs a unit"));
}

#[test]
fn remote_target_rejected() {
    let output = loadgen(&["run", "--target", "http://192.0.2.1:9000", "--anonymous"]);
    assert_eq!(exit_code(&output), 2, "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a loopback address"));
}

fn wrong_body(_head: &str) -> Vec<u8> {
    let mut response = b"HTTP/1.1 200 OK\r\ncontent-length: 16\r\n\r\n".to_vec();
    response.extend_from_slice(&[0_u8; 16]);
    response
}

/// Returns, for a GET of `/loadgen/KEY`, a response with the content expected for KEY.
fn right_body(head: &str) -> Vec<u8> {
    let path = head.split_whitespace().nth(1).unwrap_or("/");
    let key = path.trim_start_matches("/loadgen/");
    let body = content_bytes(key, 16);
    let mut response =
        format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len()).into_bytes();
    response.extend_from_slice(&body);
    response
}

fn server_error(_head: &str) -> Vec<u8> {
    b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n".to_vec()
}

fn run_against_scripted(respond: fn(&str) -> Vec<u8>, json: &str) -> std::process::Output {
    let url = scripted_server(respond);
    loadgen(&[
        "run",
        "--target",
        &url,
        "--json",
        json,
        "--anonymous",
        "--no-prepare",
        "--quiet",
        "--size",
        "16",
        "--keys",
        "5",
        "--rate",
        "100",
        "--duration",
        "1s",
        "--allow-late",
        "--timeout",
        "2s",
        "--assert",
        "all.error_rate<1%",
    ])
}

#[test]
fn wrong_get_body_detected() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let json = temp_path(&dir, "run.json");
    let output = run_against_scripted(wrong_body, &json);
    assert_eq!(exit_code(&output), 1, "{}", describe(&output));

    let report = read_json(json.as_ref());
    let get = op_result(first_phase(&report), "get");
    assert_eq!(get["ok"], 0);
    assert_eq!(get["errors"]["content"], 100);
}

#[test]
fn right_get_body_accepted() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let json = temp_path(&dir, "run.json");
    let output = run_against_scripted(right_body, &json);
    assert_eq!(exit_code(&output), 0, "{}", describe(&output));

    let report = read_json(json.as_ref());
    assert_eq!(op_result(first_phase(&report), "get")["ok"], 100);
}

#[test]
fn error_recorded_at_timeout() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let json = temp_path(&dir, "run.json");
    let output = run_against_scripted(server_error, &json);
    assert_eq!(exit_code(&output), 1, "{}", describe(&output));

    let report = read_json(json.as_ref());
    let get = op_result(first_phase(&report), "get");
    assert_eq!(get["errors"]["status_500"], 100);
    // The 500s arrive within milliseconds but must count as slow as the 2 s timeout.
    assert!(
        number(&get["response"]["p50_us"]) >= 1_990_000.0,
        "{}",
        get["response"]
    );
}

#[test]
fn interval_log_parses_back() {
    let server = null_server(&[]);
    let dir = tempfile::tempdir().expect("temporary directory");
    let json = temp_path(&dir, "run.json");
    let log = temp_path(&dir, "run.hlog");
    let url = server.url();

    let output = loadgen(&run_args(
        &url,
        &json,
        &[
            "--rate",
            "300",
            "--duration",
            "3s",
            "--allow-late",
            "--histogram-log",
            &log,
        ],
    ));
    assert_eq!(exit_code(&output), 0, "{}", describe(&output));

    let text = std::fs::read(&log).expect("read the interval log");
    let mut deserializer = Deserializer::new();
    let mut intervals = 0;
    let mut total = 0;
    for entry in IntervalLogIterator::new(&text) {
        let entry = entry.expect("valid log line");
        if let LogEntry::Interval(interval) = entry {
            assert_eq!(
                interval.tag().map(|tag| tag.as_str().to_owned()).as_deref(),
                Some("target1.r1.get")
            );
            assert_eq!(interval.duration(), Duration::from_secs(1));
            let bytes = base64_decode(interval.encoded_histogram());
            let histogram: hdrhistogram::Histogram<u64> = deserializer
                .deserialize(&mut bytes.as_slice())
                .expect("valid histogram");
            total += histogram.len();
            intervals += 1;
        }
    }
    assert!(
        (3..=5).contains(&intervals),
        "{intervals} intervals in a 3 s run"
    );
    assert_eq!(total, 900);
}

/// Decodes standard base64, the encoding of interval log histograms.
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut buffer = 0_u32;
    let mut bits = 0;
    for byte in text.bytes().filter(|byte| *byte != b'=') {
        let value = ALPHABET
            .iter()
            .position(|c| *c == byte)
            .expect("base64 character") as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

#[test]
fn two_targets_report_ratios() {
    let first = null_server(&[]);
    let second = null_server(&["--delay", "5ms"]);
    let dir = tempfile::tempdir().expect("temporary directory");
    let json = temp_path(&dir, "run.json");
    let first_spec = format!("name=fast,url={}", first.url());
    let second_spec = format!("name=slow,url={}", second.url());
    let args = [
        "run",
        "--target",
        &first_spec,
        "--target",
        &second_spec,
        "--json",
        &json,
        "--anonymous",
        "--size",
        "0",
        "--no-prepare",
        "--quiet",
        "--rate",
        "100",
        "--duration",
        "1s",
        "--repetitions",
        "2",
        "--allow-late",
    ];

    let output = loadgen(&args);
    assert_eq!(exit_code(&output), 0, "{}", describe(&output));

    let report = read_json(json.as_ref());
    let ratio = report["ratios"]
        .as_array()
        .expect("ratios")
        .iter()
        .find(|ratio| ratio["op"] == "get" && ratio["stat"] == "p50")
        .expect("a get p50 ratio");
    assert_eq!(ratio["target"], "slow");
    assert_eq!(ratio["per_repetition"].as_array().map(Vec::len), Some(2));
    assert!(
        number(&ratio["median"]) > 2.0,
        "median ratio {}",
        ratio["median"]
    );
}

#[test]
fn closed_loop_full_mix() {
    let server = null_server(&[]);
    let dir = tempfile::tempdir().expect("temporary directory");
    let json = temp_path(&dir, "run.json");
    let url = server.url();
    let spec = format!("name=null,url={url},pid={}", server.pid());

    let output = loadgen(&[
        "run",
        "--target",
        &spec,
        "--json",
        &json,
        "--anonymous",
        "--size",
        "0",
        "--no-prepare",
        "--quiet",
        "--duration",
        "1s",
        "--connections",
        "2",
        "--mix",
        "get=5,put=1,head=1,list=1,delete=1,multipart=1",
        "--part-size",
        "1KiB",
        "--assert",
        "all.error_rate<=0",
    ]);
    assert_eq!(exit_code(&output), 0, "{}", describe(&output));

    let report = read_json(json.as_ref());
    let phase = first_phase(&report);
    assert_eq!(phase["ops"].as_array().map(Vec::len), Some(6));
    assert!(number(&phase["target_cpu_s"]) >= 0.0);
}

#[test]
fn bearer_token_sent() {
    fn echo_authorization(head: &str) -> Vec<u8> {
        let bearer = head
            .lines()
            .any(|line| line.eq_ignore_ascii_case("authorization: Bearer test-token"));
        let status = if bearer { "200 OK" } else { "403 Forbidden" };
        format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n").into_bytes()
    }
    let url = scripted_server(echo_authorization);

    let output = loadgen(&[
        "run",
        "--target",
        &url,
        "--bearer",
        "test-token",
        "--size",
        "0",
        "--no-prepare",
        "--quiet",
        "--rate",
        "50",
        "--duration",
        "1s",
        "--allow-late",
        "--assert",
        "all.error_rate<=0",
    ]);
    assert_eq!(exit_code(&output), 0, "{}", describe(&output));
}

fn empty_ok(_head: &str) -> Vec<u8> {
    b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".to_vec()
}

#[test]
fn https_target_with_ca_file() {
    let server = support::tls_server(empty_ok);
    let dir = tempfile::tempdir().expect("temporary directory");
    let json = temp_path(&dir, "run.json");
    let ca_file = server.ca_file.to_string_lossy().into_owned();
    let output = loadgen(&run_args(
        &server.url,
        &json,
        &[
            "--ca-file",
            &ca_file,
            "--rate",
            "50",
            "--duration",
            "1s",
            "--allow-late",
            "--assert",
            "all.error_rate<=0",
        ],
    ));
    assert_eq!(exit_code(&output), 0, "{}", describe(&output));
}

#[test]
fn https_untrusted_certificate_fails() {
    let server = support::tls_server(empty_ok);
    let other = support::tls_server(empty_ok);
    let dir = tempfile::tempdir().expect("temporary directory");
    let json = temp_path(&dir, "run.json");
    let wrong_ca = other.ca_file.to_string_lossy().into_owned();
    let output = loadgen(&run_args(
        &server.url,
        &json,
        &[
            "--ca-file",
            &wrong_ca,
            "--rate",
            "20",
            "--duration",
            "1s",
            "--allow-late",
        ],
    ));
    assert_eq!(exit_code(&output), 0, "{}", describe(&output));
    let report = read_json(json.as_ref());
    let get = op_result(first_phase(&report), "get");
    assert_eq!(get["ok"], 0);
    assert_eq!(get["errors"]["tls"], get["requests"]);
}

#[test]
fn sweep_writes_svg_plot() {
    let server = null_server(&[]);
    let dir = tempfile::tempdir().expect("temporary directory");
    let json = temp_path(&dir, "sweep.json");
    let svg = temp_path(&dir, "sweep.svg");
    let url = server.url();
    let output = loadgen(&[
        "sweep",
        "--target",
        &url,
        "--json",
        &json,
        "--svg",
        &svg,
        "--anonymous",
        "--size",
        "0",
        "--no-prepare",
        "--quiet",
        "--connections",
        "2",
        "--saturation-duration",
        "1s",
        "--duration",
        "1s",
        "--warmup",
        "0s",
        "--levels",
        "10,50",
        "--allow-late",
        "--assert",
        "all.error_rate<=0",
    ]);
    assert_eq!(exit_code(&output), 0, "{}", describe(&output));
    let report = read_json(json.as_ref());
    let sweep = &report["targets"][0];
    assert!(
        number(&sweep["saturation_rate"]) > 100.0,
        "{}",
        sweep["saturation_rate"]
    );
    assert_eq!(sweep["levels"].as_array().map(Vec::len), Some(2));
    let plot = std::fs::read_to_string(&svg).expect("read the SVG");
    assert!(plot.starts_with("<svg"));
    assert_eq!(plot.matches("<polyline").count(), 4);
}

#[test]
fn refused_connections_counted() {
    // Bind and drop a listener, so the port is very likely closed for the run.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind a loopback port")
        .local_addr()
        .expect("local address")
        .port();
    let dir = tempfile::tempdir().expect("temporary directory");
    let json = temp_path(&dir, "run.json");
    let url = format!("http://127.0.0.1:{port}");
    let output = loadgen(&run_args(
        &url,
        &json,
        &[
            "--rate",
            "100",
            "--duration",
            "1s",
            "--allow-late",
            "--assert",
            "all.error_rate<1%",
        ],
    ));
    assert_eq!(exit_code(&output), 1, "{}", describe(&output));
    let report = read_json(json.as_ref());
    let get = op_result(first_phase(&report), "get");
    assert_eq!(get["errors"]["connect"], 100);
}

#[test]
fn json_record_hides_secret_key() {
    let server = null_server(&[]);
    let dir = tempfile::tempdir().expect("temporary directory");
    let json = temp_path(&dir, "run.json");
    let url = server.url();
    let output = loadgen(&[
        "run",
        "--target",
        &url,
        "--json",
        &json,
        "--access-key",
        "AKIDTEST",
        "--secret-key",
        "very-secret-value",
        "--size",
        "0",
        "--no-prepare",
        "--quiet",
        "--rate",
        "20",
        "--duration",
        "1s",
        "--allow-late",
    ]);
    assert_eq!(exit_code(&output), 0, "{}", describe(&output));
    let text = std::fs::read_to_string(&json).expect("read the JSON report");
    assert!(!text.contains("very-secret-value"));
    assert!(text.contains("REDACTED"));
}
