//! Which of two version texts is older, for the downgrade check: a device refuses a package whose
//! target version is older than the one it runs (firmware) or has deployed (a component).
//!
//! Version texts have no one grammar (`FW-1.10.0`, `2.1`, Samsung's `G991BXXU5CVJB`), so they are
//! compared the way people read them: split into runs of digits and runs of anything else, runs
//! of digits compared as numbers (of any length: `10` is after `9`, leading zeros do not count),
//! other runs compared byte by byte, piece by piece from the left; a text that is a prefix of the
//! other (`1.0` and `1.0.1`) is the older. A digit run sorts before a text run at the same place.
//! Samsung's firmware versions compare by their binary and build letters this way too
//! (`G991BXXU4…` before `G991BXXU5…`).

use std::cmp::Ordering;

/// One run of a version text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece<'a> {
    /// Digits, leading zeros taken off (an all-zero run is empty).
    Number(&'a str),
    Text(&'a str),
}

impl Ord for Piece<'_> {
    fn cmp(&self, other: &Piece<'_>) -> Ordering {
        match (self, other) {
            // Without leading zeros, a longer run of digits is a larger number.
            (Piece::Number(a), Piece::Number(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
            (Piece::Text(a), Piece::Text(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Piece::Number(_), Piece::Text(_)) => Ordering::Less,
            (Piece::Text(_), Piece::Number(_)) => Ordering::Greater,
        }
    }
}

impl PartialOrd for Piece<'_> {
    fn partial_cmp(&self, other: &Piece<'_>) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn pieces(text: &str) -> impl Iterator<Item = Piece<'_>> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let digits = first.is_ascii_digit();
        let end = rest
            .find(|c: char| c.is_ascii_digit() != digits)
            .unwrap_or(rest.len());
        let (run, after) = rest.split_at(end);
        rest = after;
        Some(if digits {
            Piece::Number(run.trim_start_matches('0'))
        } else {
            Piece::Text(run)
        })
    })
}

/// How version `a` compares with version `b` (see the module docs).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    pieces(a).cmp(pieces(b))
}

/// Whether version `candidate` is older than `than`.
pub fn is_older(candidate: &str, than: &str) -> bool {
    compare_versions(candidate, than) == Ordering::Less
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_people_read_them() {
        let older = [
            ("1.9", "1.10"),
            ("FW-1.0.0", "FW-1.1.0"),
            ("FW-1.9.0", "FW-1.10.0"),
            ("1.0", "1.0.1"),
            ("2.0", "2.1"),
            ("G991BXXU4CVJB", "G991BXXU5CVJB"),
            ("G991BXXU5CVJA", "G991BXXU5CVJB"),
            ("1.0", "1.a"),
            ("", "0"),
            ("9", "99999999999999999999999999999999999999"),
        ];
        for (a, b) in older {
            assert!(is_older(a, b), "{a} < {b}");
            assert!(!is_older(b, a), "not {b} < {a}");
            assert_eq!(compare_versions(b, a), Ordering::Greater, "{b} > {a}");
        }
        for (a, b) in [("1.01", "1.1"), ("2.1", "2.1"), ("007", "7")] {
            assert_eq!(compare_versions(a, b), Ordering::Equal, "{a} = {b}");
            assert!(!is_older(a, b));
        }
    }

    #[test]
    fn any_text_compares_without_panicking() {
        for (a, b) in [("é1", "e1"), ("1\u{0}", "1"), ("٣", "3")] {
            let _ = compare_versions(a, b);
            assert_eq!(compare_versions(a, a), Ordering::Equal);
        }
    }
}
