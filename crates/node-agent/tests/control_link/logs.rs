//! What the control plane and the node log during one test, to check what each side said it did (which the wire alone does not show, e.g. a resume without a snapshot).

use std::sync::{Arc, Mutex};

use tracing::subscriber::DefaultGuard;
use tracing_subscriber::filter::LevelFilter;

/// The log lines written on this test's thread.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Captures until the guard drops. A `#[tokio::test]` polls every task it spawns on its
    /// own thread, so this sees both sides and nothing from tests running beside it.
    pub fn capture() -> (Logs, DefaultGuard) {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(LevelFilter::INFO)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    /// How many lines mention `what`.
    pub fn count(&self, what: &str) -> usize {
        let bytes = self.0.lock().unwrap();
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|line| line.contains(what))
            .count()
    }

    /// Waits until at least `times` lines mention `what`.
    pub async fn wait_for(&self, what: &str, times: usize) {
        crate::wait_for(what, || self.count(what) >= times).await;
    }
}

/// What the control plane logs when a node took a whole snapshot, and when it resumed.
pub const SNAPSHOT: &str = "node feed: a node took a snapshot";
pub const RESUMED: &str = "node feed: a node resumed from its revision";
/// What the control plane logs when it cuts off a removed node.
pub const CUT_OFF: &str = "node feed: a removed node's connection is closed";
/// What the node logs when the control plane refuses it.
pub const REFUSED: &str = "control link: the control plane refused this node";

#[test]
fn lines_are_counted_by_what_they_mention() {
    use std::io::Write as _;
    let mut logs = Logs::default();
    logs.write_all(b"a resumed\nb took\nc resumed\n").unwrap();
    assert_eq!(
        (logs.count("resumed"), logs.count("took"), logs.count("x")),
        (2, 1, 0)
    );
}
