//! Progress of long-running library work, as events. The library never prints:
//! it calls a [`Progress`] sink, and `cmd` renders the events (an indicatif bar
//! on a terminal, plain lines otherwise, nothing with `--quiet`).

use std::sync::Arc;

/// Something that happened while a command ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Work on `total` items (accounts) starts.
    Started { total: u64 },
    /// One account's reads are done (`done` of `total`). Findings are counted
    /// only once the whole run is known (some come from the live audit of all
    /// accounts together), in [`Event::Finished`].
    AccountRead {
        kind: &'static str,
        account: String,
        done: u64,
        total: u64,
    },
    /// The run is complete: per account (kind, account, findings), exactly as
    /// the final report counts them.
    Finished {
        accounts: Vec<(&'static str, String, usize)>,
    },
    /// A wait on AWS (a stack, an account creation): what, its state, seconds waited.
    Waiting {
        what: String,
        state: String,
        seconds: u64,
    },
}

/// Where events go. Cloning shares the sink.
#[derive(Clone)]
pub struct Progress(Arc<dyn Fn(&Event) + Send + Sync>);

impl Progress {
    pub fn new(sink: impl Fn(&Event) + Send + Sync + 'static) -> Self {
        Progress(Arc::new(sink))
    }

    /// A sink that drops every event.
    pub fn none() -> Self {
        Progress::new(|_| {})
    }

    pub fn emit(&self, e: &Event) {
        (self.0)(e)
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::none()
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}
