//! The measuring engine: one thread per connection, the open-loop and closed-loop send
//! disciplines, the prepare phase, and the recorder loop that prints progress.
//!
//! Each connection thread owns one blocking keep-alive connection. In open loop, a free
//! thread takes the next slot of the shared schedule, builds and signs its request, sleeps
//! until the intended send time and sends it. A slot whose time comes while every connection
//! is busy is sent as soon as one frees up, and its response time still counts from the
//! intended time, so queueing delay is never omitted. Threads lower their timer slack to 1 ns
//! (`prctl(PR_SET_TIMERSLACK)`), since Linux's default of 50 µs would use half of the
//! 100 µs lateness budget on every sleep.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::error::LoadgenError;
use crate::http::Connector;
use crate::procstat;
use crate::schedule::{KeyDistribution, Mix, OpPicker, Schedule};
use crate::stats::{PhaseRecorder, Sample};
use crate::target::Target;
use crate::workload::{Client, Op, Workload};

/// Maximum connections per target.
pub const MAX_CONNECTIONS: usize = 1024;

/// How long before its intended send time an open-loop request is built and signed.
const SIGN_AHEAD: Duration = Duration::from_millis(100);

/// Pause of a closed-loop connection thread after a failed connect.
const CONNECT_RETRY_DELAY: Duration = Duration::from_millis(10);

/// The send discipline of a phase.
pub enum Discipline<'a> {
    /// Every request at its scheduled time.
    Open(&'a Schedule),
    /// Each connection sends its next request as soon as the previous response ended, for
    /// `duration`, drawing operations from the mix.
    Closed {
        /// Length of the phase, warm-up included.
        duration: Duration,
        /// Operation mix.
        mix: &'a Mix,
        /// Key distribution.
        distribution: KeyDistribution,
        /// Seed of the per-connection generators.
        seed: u64,
    },
}

/// One measured phase: a target, how to load it, and what to record.
pub struct Phase<'a> {
    /// Target.
    pub target: &'a Target,
    /// Connector of the target.
    pub connector: &'a Connector,
    /// Workload.
    pub workload: &'a Workload,
    /// Send discipline.
    pub discipline: Discipline<'a>,
    /// Number of connections (threads).
    pub connections: usize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Requests intended before this are not recorded.
    pub warmup: Duration,
    /// Label of the progress line, such as `ironbucket 1/3`.
    pub label: String,
    /// Whether to print the progress line.
    pub progress: bool,
    /// Tag prefix and time offset of the interval log, if one is written.
    pub interval_log: Option<(String, Duration)>,
    /// How long before an intended send time a sleeping connection thread wakes to spin.
    pub spin_margin: Duration,
}

/// Measurements of a phase besides its histograms: CPU time and peak memory.
pub struct PhaseMeasurement {
    /// Histograms and counters.
    pub recorder: PhaseRecorder,
    /// CPU seconds the target process used during the phase.
    pub target_cpu_s: Option<f64>,
    /// CPU seconds this process used during the phase.
    pub loadgen_cpu_s: Option<f64>,
    /// Peak resident memory of the target process after the phase, in KiB.
    pub target_peak_rss_kib: Option<u64>,
    /// Wall-clock length of the phase.
    pub wall: Duration,
}

/// Lowers this thread's timer slack so that sleeps end within microseconds of their
/// deadline. Failure only costs accuracy, which the lateness counters then show.
fn lower_timer_slack() {
    let _ = nix::sys::prctl::set_timerslack(1);
}

/// Holds connection threads back until all are connected and the start time is fixed.
#[derive(Default)]
struct StartSignal {
    state: Mutex<StartState>,
    changed: Condvar,
}

#[derive(Default)]
struct StartState {
    ready: usize,
    start: Option<Instant>,
    aborted: bool,
}

impl StartSignal {
    /// Counts this thread as connected and waits for the start time; `None` means the phase
    /// was aborted before it started.
    fn ready_and_wait(&self) -> Option<Instant> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.ready += 1;
        self.changed.notify_all();
        loop {
            if state.aborted {
                return None;
            }
            if let Some(start) = state.start {
                return Some(start);
            }
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    fn wait_until_ready(&self, threads: usize) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while state.ready < threads && !state.aborted {
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    fn start(&self, start: Instant) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.start = Some(start);
        self.changed.notify_all();
    }

    fn abort(&self) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.aborted = true;
        self.changed.notify_all();
    }
}

/// Sleeps until `spin_margin` before `deadline`, then spins until `deadline`.
///
/// A sleep alone overshoots by the timer wake-up latency. In a 2-vCPU Firecracker VM (Linux
/// 6.18) that was 21 µs at the median and 59 µs at p99 with 1 ns timer slack, and 73 µs and
/// 110 µs with the default 50 µs slack. Spinning the last stretch keeps sends within the
/// 100 µs lateness budget there. The spin costs CPU, which the run's own CPU figures include.
fn sleep_until(deadline: Instant, spin_margin: Duration) {
    loop {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        let remaining = deadline - now;
        if remaining <= spin_margin {
            break;
        }
        std::thread::sleep(remaining - spin_margin);
    }
    while Instant::now() < deadline {
        std::hint::spin_loop();
    }
}

fn nanos_since(start: Instant, time: Instant) -> u64 {
    time.saturating_duration_since(start).as_nanos() as u64
}

/// Runs one phase and returns its measurement.
pub fn run_phase(phase: &Phase<'_>) -> Result<PhaseMeasurement, LoadgenError> {
    let connections = phase.connections;
    let (sender, receiver) = mpsc::channel::<Sample>();
    let next_slot = AtomicUsize::new(0);
    let signal = StartSignal::default();
    let mut recorder = PhaseRecorder::new(phase.warmup, phase.timeout, phase.interval_log.clone());
    let mut target_cpu_before = None;
    let mut loadgen_cpu_before = None;
    let mut started = Instant::now();
    let total = match &phase.discipline {
        Discipline::Open(schedule) => Some(schedule.slots.len()),
        Discipline::Closed { .. } => None,
    };
    let phase_length = match &phase.discipline {
        Discipline::Open(schedule) => schedule
            .slots
            .last()
            .map_or(Duration::ZERO, |slot| Duration::from_nanos(slot.offset_ns)),
        Discipline::Closed { duration, .. } => *duration,
    };

    std::thread::scope(|scope| -> Result<(), LoadgenError> {
        for worker in 0..connections {
            let sender = sender.clone();
            let signal = &signal;
            let next_slot = &next_slot;
            std::thread::Builder::new()
                .name(format!("conn-{worker}"))
                .spawn_scoped(scope, move || {
                    lower_timer_slack();
                    let mut client = Client::new(
                        phase.workload,
                        phase.connector,
                        &phase.target.authority,
                        phase.timeout,
                    );
                    // A failed connect is retried, and counted, by the first request.
                    let _ = client.warm_up();
                    let Some(start) = signal.ready_and_wait() else {
                        return;
                    };
                    match &phase.discipline {
                        Discipline::Open(schedule) => {
                            run_open(
                                &mut client,
                                schedule,
                                phase.spin_margin,
                                next_slot,
                                start,
                                &sender,
                            );
                        }
                        Discipline::Closed {
                            duration,
                            mix,
                            distribution,
                            seed,
                        } => {
                            let picker = OpPicker::new(
                                mix,
                                phase.workload.keys,
                                phase.workload.delete_keys,
                                *distribution,
                                seed.wrapping_add(worker as u64),
                            );
                            if let Ok(mut picker) = picker {
                                run_closed(
                                    &mut client,
                                    &mut picker,
                                    worker,
                                    start,
                                    *duration,
                                    &sender,
                                );
                            }
                        }
                    }
                })
                .map_err(|source| {
                    signal.abort();
                    LoadgenError::Io {
                        context: "cannot start a connection thread".to_owned(),
                        source,
                    }
                })?;
        }
        drop(sender);
        signal.wait_until_ready(connections);
        target_cpu_before = phase.target.pid.and_then(procstat::cpu_seconds);
        loadgen_cpu_before = procstat::own_cpu_seconds();
        // A short delay lets every worker reach its first sleep before the first slot.
        let start = Instant::now() + Duration::from_millis(5);
        started = start;
        signal.start(start);
        collect(phase, &receiver, &mut recorder, start, phase_length, total);
        Ok(())
    })?;

    let wall = started.elapsed();
    let target_cpu_s = match (
        target_cpu_before,
        phase.target.pid.and_then(procstat::cpu_seconds),
    ) {
        (Some(before), Some(after)) => Some(after - before),
        _ => None,
    };
    let loadgen_cpu_s = match (loadgen_cpu_before, procstat::own_cpu_seconds()) {
        (Some(before), Some(after)) => Some(after - before),
        _ => None,
    };
    Ok(PhaseMeasurement {
        recorder,
        target_cpu_s,
        loadgen_cpu_s,
        target_peak_rss_kib: phase.target.pid.and_then(procstat::peak_rss_kib),
        wall,
    })
}

fn run_open(
    client: &mut Client<'_>,
    schedule: &Schedule,
    spin_margin: Duration,
    next_slot: &AtomicUsize,
    start: Instant,
    sender: &mpsc::Sender<Sample>,
) {
    loop {
        let free_ns = nanos_since(start, Instant::now());
        let index = next_slot.fetch_add(1, Ordering::Relaxed);
        let Some(slot) = schedule.slots.get(index) else {
            return;
        };
        let due = start + Duration::from_nanos(slot.offset_ns);
        // At low rates a free thread may take a slot minutes ahead. Waiting here until shortly
        // before it keeps the SigV4 date within the 15 minutes that servers accept, while
        // the request is still built and signed before its intended time.
        if let Some(early) = due.checked_sub(SIGN_AHEAD) {
            sleep_until(early, Duration::ZERO);
        }
        let (sent, outcome) =
            client.execute(slot.op, slot.key, &mut || sleep_until(due, spin_margin));
        let sample = Sample {
            op: slot.op,
            due_ns: slot.offset_ns,
            ready_ns: slot.offset_ns.max(free_ns),
            sent_ns: nanos_since(start, sent),
            first_byte_ns: outcome.first_byte.map(|time| nanos_since(start, time)),
            done_ns: nanos_since(start, outcome.done),
            queued: free_ns > slot.offset_ns,
            error: outcome.error,
            bytes: outcome.bytes,
        };
        if sender.send(sample).is_err() {
            return;
        }
    }
}

fn run_closed(
    client: &mut Client<'_>,
    picker: &mut OpPicker,
    worker: usize,
    start: Instant,
    duration: Duration,
    sender: &mpsc::Sender<Sample>,
) {
    let end = start + duration;
    sleep_until(start, Duration::ZERO);
    while Instant::now() < end {
        let (op, mut key) = picker.pick();
        if op == Op::Multipart {
            // Connections draw multipart keys independently, so each gets its own range.
            key = key.wrapping_add((worker as u32).wrapping_mul(1_000_000));
        }
        let (sent, outcome) = client.execute(op, key, &mut || {});
        if outcome.error.as_deref() == Some("connect") {
            // A target that refuses connections would otherwise be retried in a tight loop.
            std::thread::sleep(CONNECT_RETRY_DELAY);
        }
        let sent_ns = nanos_since(start, sent);
        let sample = Sample {
            op,
            due_ns: sent_ns,
            ready_ns: sent_ns,
            sent_ns,
            first_byte_ns: outcome.first_byte.map(|time| nanos_since(start, time)),
            done_ns: nanos_since(start, outcome.done),
            queued: false,
            error: outcome.error,
            bytes: outcome.bytes,
        };
        if sender.send(sample).is_err() {
            return;
        }
    }
}

/// Drains samples into the recorder until every worker has finished, printing a progress
/// line once a second. The loop polls instead of blocking on the channel, so that a send
/// never has to wake this thread.
fn collect(
    phase: &Phase<'_>,
    receiver: &mpsc::Receiver<Sample>,
    recorder: &mut PhaseRecorder,
    start: Instant,
    phase_length: Duration,
    total: Option<usize>,
) {
    let terminal = std::io::stderr().is_terminal();
    let mut next_progress = start + Duration::from_secs(1);
    loop {
        loop {
            match receiver.try_recv() {
                Ok(sample) => recorder.record(&sample),
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    if phase.progress && terminal {
                        eprintln!();
                    }
                    return;
                }
            }
        }
        let now = Instant::now();
        if phase.progress && now >= next_progress {
            next_progress += Duration::from_secs(1);
            let elapsed = now.saturating_duration_since(start).as_secs_f64();
            let planned = total.map_or(String::new(), |total| format!("/{total}"));
            let line = format!(
                "[{}] {elapsed:.0}/{:.0} s  done {}{planned}  errors {}  late {}  queued {}  p99 {:.2} ms",
                phase.label,
                phase_length.as_secs_f64(),
                recorder.finished,
                recorder.finished_errors,
                recorder.late,
                recorder.queued,
                recorder.progress_p99_us() as f64 / 1000.0,
            );
            if terminal {
                eprint!("\r{line}\x1b[K");
            } else {
                eprintln!("{line}");
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Creates the bucket and every object the workload reads or deletes, using `connections`
/// threads. `deletes_only` re-creates just the objects that DELETE removes.
pub fn prepare(
    target: &Target,
    connector: &Connector,
    workload: &Workload,
    connections: usize,
    timeout: Duration,
    deletes_only: bool,
) -> Result<(), LoadgenError> {
    let fail = |message: String| LoadgenError::Prepare {
        target: target.name.clone(),
        message,
    };
    let mut client = Client::new(workload, connector, &target.authority, timeout);
    if !deletes_only {
        client.create_bucket().map_err(fail)?;
    }
    let mut keys: Vec<String> = Vec::new();
    if !deletes_only {
        keys.extend((0..workload.keys).map(|index| workload.object_key(index)));
    }
    keys.extend((0..workload.delete_keys).map(|index| workload.delete_key(index)));
    let keys = Arc::new(keys);
    let next = AtomicUsize::new(0);
    let first_error: OnceLock<String> = OnceLock::new();
    std::thread::scope(|scope| {
        for _ in 0..connections.min(keys.len()).max(1) {
            let keys = keys.clone();
            let next = &next;
            let first_error = &first_error;
            scope.spawn(move || {
                let mut client = Client::new(workload, connector, &target.authority, timeout);
                while first_error.get().is_none() {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(key) = keys.get(index) else {
                        return;
                    };
                    if let Err(message) = client.put_key(key) {
                        let _ = first_error.set(message);
                        return;
                    }
                }
            });
        }
    });
    match first_error.into_inner() {
        Some(message) => Err(fail(message)),
        None => Ok(()),
    }
}
