//! How an expected list is compared with what happened (exactly, or "at least these, in this
//! order"), and how both are shown in a failure.

use crate::scenario::model::{ResultExpect, StatusExpect};
use crate::server::ReceivedStatus;
use crate::session::ServerRule;
use crate::syncml::Item;

/// How an expected list is compared with what happened: exactly (the default), or "at least these,
/// in this order" when the scenario names the list in `expect.at_least`.
pub(super) struct List {
    /// What happened, in words ("the server received FUMO results").
    what: &'static str,
    at_least: bool,
}

/// How many items of a list a failure message shows.
const SHOWN: usize = 40;

impl List {
    pub(super) fn new(what: &'static str, at_least: bool) -> List {
        List { what, at_least }
    }

    /// Check `expected` against `actual`, pushing a failure that shows both.
    pub(super) fn check<E: Brief, A: Brief>(
        &self,
        expected: &[E],
        actual: &[A],
        matches: impl Fn(&E, &A) -> bool,
        failures: &mut Vec<String>,
    ) {
        let holds = if self.at_least {
            let mut rest = actual.iter();
            expected.iter().all(|e| rest.any(|a| matches(e, a)))
        } else {
            expected.len() == actual.len()
                && expected.iter().zip(actual).all(|(e, a)| matches(e, a))
        };
        if !holds {
            let how = if self.at_least {
                "at least, in this order,"
            } else {
                "exactly"
            };
            failures.push(format!(
                "{} {}, expected {how} {}",
                self.what,
                shown(actual),
                shown(expected)
            ));
        }
    }
}

/// A list for a failure message, cut after [`SHOWN`] items.
fn shown<T: Brief>(list: &[T]) -> String {
    let items: Vec<String> = list.iter().take(SHOWN).map(Brief::brief).collect();
    let more = list.len().saturating_sub(SHOWN);
    if more > 0 {
        format!("[{}, … and {more} more]", items.join(", "))
    } else {
        format!("[{}]", items.join(", "))
    }
}

/// An item of an expected or an actual list, in a few words.
pub(super) trait Brief {
    fn brief(&self) -> String;
}

impl Brief for ServerRule {
    fn brief(&self) -> String {
        self.id().to_string()
    }
}

impl Brief for u16 {
    fn brief(&self) -> String {
        self.to_string()
    }
}

impl Brief for i64 {
    fn brief(&self) -> String {
        self.to_string()
    }
}

impl Brief for StatusExpect {
    fn brief(&self) -> String {
        let mut out = self.cmd.clone();
        if let Some(t) = &self.target {
            out.push(' ');
            out.push_str(t);
        }
        out.push_str(&format!(" {}", self.code));
        if let Some(d) = &self.data {
            out.push_str(&format!(" {d:?}"));
        }
        out
    }
}

impl Brief for &ReceivedStatus {
    fn brief(&self) -> String {
        match &self.target_ref {
            Some(t) => format!("{} {t} {}", self.cmd, self.code.code()),
            None => format!("{} {}", self.cmd, self.code.code()),
        }
    }
}

impl Brief for ResultExpect {
    fn brief(&self) -> String {
        match &self.data {
            Some(d) => format!("{} {d:?}", self.source),
            None => self.source.clone(),
        }
    }
}

impl Brief for &Item {
    fn brief(&self) -> String {
        let source = self.source_uri().unwrap_or("(no source)");
        match self.data_text() {
            Some(d) if d.len() <= 40 => format!("{source} {d:?}"),
            _ => {
                let len = self.data.as_ref().map_or(0, |d| d.as_bytes().len());
                format!("{source} ({len} bytes)")
            }
        }
    }
}
