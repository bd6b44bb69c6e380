//! Sequence sets (RFC 3501 9 `sequence-set`, RFC 9051 `$` from SEARCHRES).
//!
//! Whether the numbers are sequence numbers or UIDs depends on the command (`UID FETCH`
//! vs `FETCH`); the set itself only stores the numbers as sent.

use std::fmt;

/// One end of a range: a number or `*` (the largest number in use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeqBound {
    Value(u32),
    /// `*`
    Largest,
}

impl SeqBound {
    fn resolve(self, largest: u32) -> u32 {
        match self {
            SeqBound::Value(v) => v,
            SeqBound::Largest => largest,
        }
    }
}

/// One element of a set: `5`, `*`, `2:4`, `7:*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeqRange {
    pub start: SeqBound,
    pub end: SeqBound,
}

impl SeqRange {
    pub fn single(v: u32) -> SeqRange {
        SeqRange {
            start: SeqBound::Value(v),
            end: SeqBound::Value(v),
        }
    }

    pub fn new(start: u32, end: u32) -> SeqRange {
        SeqRange {
            start: SeqBound::Value(start),
            end: SeqBound::Value(end),
        }
    }

    /// The range as `low..=high` once `*` means `largest` (RFC 3501: `4:2` == `2:4`).
    pub fn resolve(&self, largest: u32) -> (u32, u32) {
        let a = self.start.resolve(largest);
        let b = self.end.resolve(largest);
        (a.min(b), a.max(b))
    }
}

/// A sequence set as sent by the client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SequenceSet {
    Ranges(Vec<SeqRange>),
    /// `$`: the result saved by the last `SEARCH RETURN (SAVE)` (RFC 5182).
    Saved,
}

impl SequenceSet {
    pub fn single(v: u32) -> SequenceSet {
        SequenceSet::Ranges(vec![SeqRange::single(v)])
    }

    pub fn range(start: u32, end: u32) -> SequenceSet {
        SequenceSet::Ranges(vec![SeqRange::new(start, end)])
    }

    /// Builds the shortest set listing `values` (which need not be sorted).
    pub fn from_values(values: impl IntoIterator<Item = u32>) -> SequenceSet {
        let mut v: Vec<u32> = values.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        let mut ranges: Vec<SeqRange> = Vec::new();
        for n in v {
            if let Some(SeqRange {
                end: SeqBound::Value(end),
                ..
            }) = ranges.last_mut()
                && end.checked_add(1) == Some(n)
            {
                *end = n;
                continue;
            }
            ranges.push(SeqRange::single(n));
        }
        SequenceSet::Ranges(ranges)
    }

    /// A set listing `values` in the order given (a sorted result, RFC 5267 3.2):
    /// only ascending runs of consecutive numbers become ranges.
    pub fn from_ordered(values: impl IntoIterator<Item = u32>) -> SequenceSet {
        let mut ranges: Vec<SeqRange> = Vec::new();
        for n in values {
            if let Some(SeqRange {
                end: SeqBound::Value(end),
                ..
            }) = ranges.last_mut()
                && end.checked_add(1) == Some(n)
            {
                *end = n;
                continue;
            }
            ranges.push(SeqRange::single(n));
        }
        SequenceSet::Ranges(ranges)
    }

    /// The set as sorted, merged, inclusive ranges once `*` means `largest`.
    /// `$` resolves to nothing; the session substitutes the saved result first.
    pub fn resolve(&self, largest: u32) -> Vec<(u32, u32)> {
        let SequenceSet::Ranges(ranges) = self else {
            return Vec::new();
        };
        let mut out: Vec<(u32, u32)> = ranges.iter().map(|r| r.resolve(largest)).collect();
        out.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(out.len());
        for (a, b) in out {
            if let Some(last) = merged.last_mut()
                && a <= last.1.saturating_add(1)
            {
                last.1 = last.1.max(b);
                continue;
            }
            merged.push((a, b));
        }
        merged
    }

    /// Whether `n` is in the set once `*` means `largest`.
    pub fn contains(&self, n: u32, largest: u32) -> bool {
        match self {
            SequenceSet::Ranges(ranges) => ranges.iter().any(|r| {
                let (a, b) = r.resolve(largest);
                a <= n && n <= b
            }),
            SequenceSet::Saved => false,
        }
    }
}

impl fmt::Display for SeqBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeqBound::Value(v) => v.fmt(f),
            SeqBound::Largest => f.write_str("*"),
        }
    }
}

impl fmt::Display for SequenceSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SequenceSet::Saved => f.write_str("$"),
            SequenceSet::Ranges(ranges) => {
                for (i, r) in ranges.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    if r.start == r.end {
                        write!(f, "{}", r.start)?;
                    } else {
                        write!(f, "{}:{}", r.start, r.end)?;
                    }
                }
                Ok(())
            }
        }
    }
}
