//! CPU time and peak memory of a process, read from `/proc`.

use std::fs;

/// CPU time a process has used so far, in seconds (user plus system, all threads).
///
/// Reads `utime` and `stime` (fields 14 and 15) of `/proc/PID/stat`, which count clock ticks
/// (`sysconf(_SC_CLK_TCK)`, usually 100 per second), so the resolution is about 10 ms.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_cpu_ticks(&text).map(|ticks| ticks as f64 / clock_ticks_per_second())
}

/// CPU time this process has used so far, in seconds.
pub fn own_cpu_seconds() -> Option<f64> {
    cpu_seconds(std::process::id())
}

fn clock_ticks_per_second() -> f64 {
    match nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK) {
        Ok(Some(ticks)) if ticks > 0 => ticks as f64,
        // Linux has reported 100 ticks per second to user space on every architecture since
        // 2.6, so this fallback is only reached if sysconf itself fails.
        _ => 100.0,
    }
}

/// Returns `utime + stime` from the text of `/proc/PID/stat`. The command name in field 2 may
/// contain spaces and parentheses, so fields are counted after its last `)`.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace();
    // After the name come field 3 (state) onwards; utime and stime are fields 14 and 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Peak resident set size (`VmHWM` of `/proc/PID/status`) in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_parse_after_odd_name() {
        let stat = "42 (a b) c)) S 1 42 42 0 -1 4194560 100 0 0 0 250 30 0 0 20 0 1 0 5 0 0";
        assert_eq!(parse_cpu_ticks(stat), Some(280));
    }

    #[test]
    fn own_cpu_time_readable() {
        assert!(own_cpu_seconds().is_some());
    }

    #[test]
    fn own_peak_rss_readable() {
        assert!(peak_rss_kib(std::process::id()).is_some_and(|kib| kib > 0));
    }
}
