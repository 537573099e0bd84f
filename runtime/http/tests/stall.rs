//! The per-core stall detector: a service that blocks its core thread must make
//! that core log a warning naming it. A global tracing subscriber captures the
//! events, so this test has its own binary.

mod common;

use std::sync::{Arc, Mutex};

use common::{Client, Mode, get, start, test_config};
use tracing_subscriber::layer::SubscriberExt;

/// Captured warnings as `(message, core)`.
type Captured = Arc<Mutex<Vec<(String, Option<u64>)>>>;

struct Capture(Captured);

#[derive(Default)]
struct Fields {
    message: String,
    core: Option<u64>,
}

impl tracing::field::Visit for Fields {
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        if field.name() == "core" {
            self.core = Some(value);
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if *event.metadata().level() != tracing::Level::WARN {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        self.0.lock().unwrap().push((fields.message, fields.core));
    }
}

#[test]
fn blocked_core_logs_stall() {
    let captured: Captured = Arc::default();
    let subscriber = tracing_subscriber::registry().with(Capture(Arc::clone(&captured)));
    tracing::subscriber::set_global_default(subscriber).unwrap();
    for mode in [Mode::DefaultDriver, Mode::ForcedEpoll] {
        captured.lock().unwrap().clear();
        let mut config = test_config(mode);
        config.cores = 1;
        let server = start(config);
        let mut client = Client::new(server.local_addrs()[0]);
        client.send(&get("/block?60"));
        assert_eq!(client.response(false).status, 200);
        // The detector notices on its next wake after the blocked turn.
        std::thread::sleep(std::time::Duration::from_millis(100));
        let warnings = captured.lock().unwrap().clone();
        let stall = warnings
            .iter()
            .find(|(message, _)| message.contains("event loop stalled"));
        assert_eq!(
            stall.map(|(_, core)| *core),
            Some(Some(0)),
            "{mode:?}: {warnings:?}"
        );
    }
}
