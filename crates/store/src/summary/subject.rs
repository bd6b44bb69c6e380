//! The base subject (RFC 5256 2.1), which SORT SUBJECT and both THREAD
//! algorithms group by, and whether the subject marked a reply or forward.

/// The base subject of a decoded subject, case kept, and whether a reply or
/// forward marker (`subj-refwd`, or a `(fwd)` trailer) was removed.
pub fn base_subject(subject: &str) -> (String, bool) {
    // (1) Tabs and continuations to spaces, runs of spaces to one.
    let mut s = String::with_capacity(subject.len());
    for ch in subject.chars() {
        if matches!(ch, ' ' | '\t' | '\r' | '\n') {
            if !s.ends_with(' ') {
                s.push(' ');
            }
        } else {
            s.push(ch);
        }
    }
    let mut cur: &str = &s;
    let mut refwd = false;
    loop {
        // (2) Remove trailing subj-trailer ("(fwd)" / WSP), repeatedly.
        loop {
            if let Some(t) = cur.strip_suffix(' ') {
                cur = t;
            } else if let Some(t) = strip_suffix_ci(cur, "(fwd)") {
                cur = t;
                refwd = true;
            } else {
                break;
            }
        }
        // (3) subj-leader, (4) a subj-blob when a non-empty subj-base remains,
        // (5) repeated until neither applies.
        loop {
            if let Some((n, is_refwd)) = leader_len(cur) {
                cur = &cur[n..];
                refwd |= is_refwd;
                continue;
            }
            // No leader: every blob of the run at the start fails (3) the same
            // way, so (4) takes them all at once (one at a time would rescan
            // the run each time), keeping the last when nothing follows it.
            let (mut end, mut last) = (0, None);
            while let Some(n) = blob_len(&cur[end..]) {
                last = Some(end);
                end += n;
            }
            match last {
                Some(_) if !cur[end..].trim_matches(' ').is_empty() => cur = &cur[end..],
                Some(l) if l > 0 => cur = &cur[l..],
                _ => break,
            }
        }
        // (6) "[fwd:" subject "]": unwrap and start again from (2).
        if cur.len() >= 6
            && cur.as_bytes()[..5].eq_ignore_ascii_case(b"[fwd:")
            && cur.ends_with(']')
        {
            cur = &cur[5..cur.len() - 1];
            refwd = true;
            continue;
        }
        return (cur.to_string(), refwd);
    }
}

fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = s.len().checked_sub(suffix.len())?;
    let tail = s.as_bytes().get(cut..)?;
    // The suffix is ASCII, so `cut` is a character boundary when it matches.
    (tail.eq_ignore_ascii_case(suffix.as_bytes()) && s.is_char_boundary(cut)).then(|| &s[..cut])
}

/// `subj-blob = "[" *BLOBCHAR "]" *WSP`: its length at the start of `s`.
fn blob_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.first() != Some(&b'[') {
        return None;
    }
    let close = 1 + b[1..].iter().position(|&c| c == b'[' || c == b']')?;
    if b[close] != b']' {
        return None;
    }
    let mut n = close + 1;
    while b.get(n) == Some(&b' ') {
        n += 1;
    }
    Some(n)
}

/// `subj-leader = (*subj-blob subj-refwd) / WSP`: its length, and whether it
/// held a `subj-refwd`.
fn leader_len(s: &str) -> Option<(usize, bool)> {
    let b = s.as_bytes();
    if b.first() == Some(&b' ') {
        return Some((1, false));
    }
    let mut p = 0;
    while let Some(n) = blob_len(&s[p..]) {
        p += n;
    }
    // subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
    for word in ["re", "fwd", "fw"] {
        let Some(prefix) = b.get(p..p + word.len()) else {
            continue;
        };
        if !prefix.eq_ignore_ascii_case(word.as_bytes()) {
            continue;
        }
        let mut q = p + word.len();
        while b.get(q) == Some(&b' ') {
            q += 1;
        }
        if let Some(n) = blob_len(&s[q..]) {
            q += n;
        }
        if b.get(q) == Some(&b':') {
            return Some((q + 1, true));
        }
    }
    None
}
