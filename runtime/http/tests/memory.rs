//! Memory bound of a large streamed response read slowly: the server's resident
//! memory must not grow with the body size. Runs in its own test binary (its own
//! process) so other tests do not disturb the VmRSS reading, and runs both drivers
//! one after the other for the same reason.

mod common;

use std::io::Read;
use std::time::Duration;

use common::{Client, Mode, get, start, test_config};

const BODY: u64 = 50 * 1024 * 1024;

/// Returns this process's resident set size in KiB from `/proc/self/status`.
fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Reads the 50 MiB body in 64 KiB reads with a 1 ms pause every second read
/// (about 50 MiB/s) and returns the bytes read and the peak RSS growth in KiB.
fn stream_slowly(mode: Mode) -> (u64, u64) {
    let mut config = test_config(mode);
    config.timeouts.write = Duration::from_secs(10);
    let server = start(config);
    let mut client = Client::new(server.local_addrs()[0]);
    client.send(&get(&format!("/stream?{BODY}")));
    let baseline = vm_rss_kib();
    let mut peak = baseline;
    let mut total = 0u64;
    let mut chunk = vec![0u8; 64 * 1024];
    let mut reads = 0u64;
    loop {
        let read = client.stream.read(&mut chunk).unwrap();
        if read == 0 {
            break;
        }
        total += read as u64;
        reads += 1;
        if reads.is_multiple_of(2) {
            std::thread::sleep(Duration::from_millis(1));
        }
        if reads.is_multiple_of(16) {
            peak = peak.max(vm_rss_kib());
        }
        if total >= BODY {
            break;
        }
    }
    (total, peak.saturating_sub(baseline))
}

#[test]
fn slow_large_stream_bounded_memory() {
    for mode in [Mode::DefaultDriver, Mode::ForcedEpoll] {
        let (total, growth_kib) = stream_slowly(mode);
        eprintln!("{mode:?}: read {total} bytes, peak RSS growth {growth_kib} KiB");
        // Head plus body; the head is under 100 bytes.
        assert!(total >= BODY, "{mode:?}: only {total} bytes arrived");
        // Loose bound: socket buffers and a few 256 KiB pieces, far below 50 MiB.
        assert!(
            growth_kib < 16 * 1024,
            "{mode:?}: RSS grew {growth_kib} KiB"
        );
    }
}
