//! Renders the library's progress events: an indicatif bar on a terminal,
//! plain lines on stderr otherwise.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use crate::progress::{Event, Progress};

/// The stderr renderer for `command` (`xacct <command>: ...` lines); nothing with
/// `--quiet` or `--no-progress`. xacct prints no colours, so `NO_COLOR` needs nothing.
pub fn stderr(command: &'static str) -> Progress {
    if !super::ui().progress {
        Progress::none()
    } else if std::io::stderr().is_terminal() {
        bar(command)
    } else {
        Progress::new(move |e| {
            if let Some(line) = line(command, e) {
                eprintln!("{line}");
            }
        })
    }
}

/// The plain line for an event, if it prints one.
pub fn line(command: &str, e: &Event) -> Option<String> {
    Some(match e {
        Event::Started { .. } => return None,
        Event::AccountRead {
            kind,
            account,
            done,
            total,
        } => format!("xacct {command}: {kind} account {account} read ({done}/{total})"),
        Event::Finished { accounts } => accounts
            .iter()
            .map(|(kind, account, findings)| {
                format!("xacct {command}: {kind} account {account} checked: {findings} finding(s)")
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Event::Waiting {
            what,
            state,
            seconds,
        } => format!("xacct {command}: {what}: {state} ({seconds}s)"),
    })
}

fn bar(command: &'static str) -> Progress {
    let bar: Arc<Mutex<Option<indicatif::ProgressBar>>> = Arc::new(Mutex::new(None));
    Progress::new(move |e| {
        let Ok(mut slot) = bar.lock() else { return };
        match e {
            Event::Started { total } => {
                let b = indicatif::ProgressBar::new(*total);
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} accounts {msg}",
                ) {
                    b.set_style(style);
                }
                *slot = Some(b);
            }
            Event::AccountRead { account, .. } => {
                if let Some(b) = slot.as_ref() {
                    b.set_message(account.clone());
                    b.inc(1);
                }
            }
            Event::Finished { .. } => {
                if let Some(b) = slot.take() {
                    b.finish_and_clear();
                }
            }
            Event::Waiting { .. } => {
                if let Some(l) = line(command, e) {
                    match slot.as_ref() {
                        Some(b) => b.println(l),
                        None => eprintln!("{l}"),
                    }
                }
            }
        }
    })
}
