//! Per-core stall detector: a timer task that wakes every few milliseconds and
//! measures how late it woke. A late wake means some task held the core (blocking
//! I/O, a long computation), which delays every connection on that core.

use std::rc::Rc;
use std::time::Duration;

use tracing::warn;

use crate::rt::{self, Instant};
use crate::server::CoreState;

/// Interval between wakes; short enough to see a 10 ms stall, and at 50 wakes per
/// second too cheap to measure.
const TICK: Duration = Duration::from_millis(20);
/// At most one warning per core in this period; the others are counted into it.
const REPORT_INTERVAL: Duration = Duration::from_secs(10);

/// Runs until the core stops, warning when one event-loop turn exceeded `threshold`.
pub(crate) async fn detect(core: usize, threshold: Duration, state: Rc<CoreState>) {
    let mut last_report: Option<Instant> = None;
    let mut suppressed = 0u64;
    let mut worst = Duration::ZERO;
    while !state.stopping.get() {
        let before = Instant::now();
        rt::sleep(TICK).await;
        let late = before.elapsed().saturating_sub(TICK);
        if late <= threshold {
            continue;
        }
        worst = worst.max(late);
        let due = last_report.is_none_or(|at| at.elapsed() >= REPORT_INTERVAL);
        if due {
            warn!(
                core,
                stall_ms = late.as_millis() as u64,
                worst_ms = worst.as_millis() as u64,
                stalls_since_last_warning = suppressed,
                "event loop stalled: a task ran without yielding"
            );
            last_report = Some(Instant::now());
            suppressed = 0;
            worst = Duration::ZERO;
        } else {
            suppressed += 1;
        }
    }
}
