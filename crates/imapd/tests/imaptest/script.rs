//! Reading imaptest's scripted tests: a header of `key: value` lines, a blank line,
//! then command groups (commands, the untagged replies they must or must not produce,
//! and their tagged replies). `{{{ ... }}}` blocks become literals.

use std::path::{Path, PathBuf};

/// How far the mailbox is prepared before the script's commands run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    NonAuth,
    Auth,
    Created,
    Appended,
    Selected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existence {
    Must,
    MustNot,
    May,
}

/// A reply argument as the tokenizer reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Atom(String),
    Str(Vec<u8>),
    Nil,
    List(Vec<Arg>),
}

#[derive(Debug, Clone)]
pub struct Untagged {
    pub existence: Existence,
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone)]
pub struct Cmd {
    pub line: usize,
    /// The script's tag number (`tag3 ...`), 0 when none.
    pub tag: u32,
    /// The command text after the tag, literals already in `{n}\r\n` form.
    pub text: Vec<u8>,
    /// Expected tagged reply: `ok`/`no`/`bad`/`""` then the prefix to match.
    pub reply: Option<Vec<Arg>>,
}

#[derive(Debug, Clone, Default)]
pub struct Group {
    pub conn: usize,
    pub commands: Vec<Cmd>,
    pub untagged: Vec<Untagged>,
    /// Untagged replies checked before any command (the greeting).
    pub banner: bool,
}

#[derive(Debug, Clone)]
pub struct Script {
    pub name: String,
    pub capabilities: Vec<String>,
    pub connections: usize,
    /// `None` is `messages: all`.
    pub messages: Option<usize>,
    pub state: State,
    pub groups: Vec<Group>,
    pub mbox: PathBuf,
}

fn err(name: &str, line: usize, msg: &str) -> String {
    format!("{name} line {line}: {msg}")
}

/// Splits `line` into IMAP arguments: atoms (with `[...]` kept whole), quoted strings,
/// literals, NIL and parenthesised lists.
pub fn tokenize(line: &[u8]) -> Result<Vec<Arg>, String> {
    let mut pos = 0;
    let args = tokenize_list(line, &mut pos, 0)?;
    if pos < line.len() {
        return Err("unbalanced ')'".into());
    }
    Ok(args)
}

fn tokenize_list(s: &[u8], pos: &mut usize, depth: usize) -> Result<Vec<Arg>, String> {
    if depth > 50 {
        return Err("nesting too deep".into());
    }
    let mut out = Vec::new();
    loop {
        while *pos < s.len() && s[*pos] == b' ' {
            *pos += 1;
        }
        if *pos >= s.len() {
            if depth > 0 {
                return Err("missing ')'".into());
            }
            return Ok(out);
        }
        match s[*pos] {
            b')' => {
                if depth == 0 {
                    return Ok(out);
                }
                *pos += 1;
                return Ok(out);
            }
            b'(' => {
                *pos += 1;
                out.push(Arg::List(tokenize_list(s, pos, depth + 1)?));
            }
            b'"' => {
                *pos += 1;
                let mut v = Vec::new();
                loop {
                    match s.get(*pos) {
                        None => return Err("unterminated string".into()),
                        Some(b'"') => break,
                        Some(b'\\') => {
                            v.push(*s.get(*pos + 1).ok_or("bad escape")?);
                            *pos += 2;
                        }
                        Some(&c) => {
                            v.push(c);
                            *pos += 1;
                        }
                    }
                }
                *pos += 1;
                out.push(Arg::Str(v));
            }
            b'{' | b'~' if literal_at(s, *pos).is_some() => {
                let (n, start) = literal_at(s, *pos).ok_or("literal")?;
                let end = start + n;
                if end > s.len() {
                    return Err("truncated literal".into());
                }
                out.push(Arg::Str(s[start..end].to_vec()));
                *pos = end;
            }
            _ => {
                let start = *pos;
                let mut bracket = 0;
                while *pos < s.len() {
                    let c = s[*pos];
                    if c == b'[' {
                        bracket += 1;
                    } else if c == b']' && bracket > 0 {
                        bracket -= 1;
                    } else if bracket == 0 && matches!(c, b' ' | b'(' | b')') {
                        break;
                    }
                    *pos += 1;
                }
                let atom = String::from_utf8_lossy(&s[start..*pos]).into_owned();
                if atom.eq_ignore_ascii_case("NIL") {
                    out.push(Arg::Nil);
                } else {
                    out.push(Arg::Atom(atom));
                }
            }
        }
    }
}

/// `{n}\r\n` or `~{n}\r\n` (or `{n+}`) at `pos`: the size and where the data starts.
fn literal_at(s: &[u8], pos: usize) -> Option<(usize, usize)> {
    let mut p = pos;
    if s.get(p) == Some(&b'~') {
        p += 1;
    }
    if s.get(p) != Some(&b'{') {
        return None;
    }
    p += 1;
    let ds = p;
    while s.get(p).is_some_and(|c| c.is_ascii_digit()) {
        p += 1;
    }
    let n: usize = std::str::from_utf8(&s[ds..p]).ok()?.parse().ok()?;
    if s.get(p) == Some(&b'+') {
        p += 1;
    }
    if s.get(p..p + 3) != Some(b"}\r\n") {
        return None;
    }
    Some((n, p + 3))
}

/// `ok`/`no`/`bad`/`""` at the start of `rest` (after an optional `tagN`).
fn split_reply(rest: &str) -> (u32, Option<&'static str>, &str) {
    let mut tag = 0;
    let mut rest = rest;
    let first = rest.split(' ').next().unwrap_or("");
    if first.len() > 3
        && first[..3].eq_ignore_ascii_case("tag")
        && let Ok(n) = first[3..].parse::<u32>()
        && n > 0
    {
        tag = n;
        rest = rest[first.len()..].trim_start_matches(' ');
    }
    let word = rest.split(' ').next().unwrap_or("");
    let reply = match word.to_ascii_lowercase().as_str() {
        "ok" => Some("ok"),
        "no" => Some("no"),
        "bad" => Some("bad"),
        "\"\"" => Some(""),
        _ => None,
    };
    if reply.is_some() {
        rest = rest[word.len()..].trim_start_matches(' ');
    }
    (tag, reply, rest)
}

fn untagged_kind(line: &str) -> Option<Existence> {
    if line.starts_with("* ") {
        Some(Existence::Must)
    } else if line.starts_with("! ") {
        Some(Existence::MustNot)
    } else if line.starts_with("? ") {
        Some(Existence::May)
    } else {
        None
    }
}

/// Joins `{{{`...`}}}` blocks into single logical lines holding literals.
fn logical_lines(data: &[u8]) -> Result<Vec<(usize, Vec<u8>)>, String> {
    let mut out = Vec::new();
    let mut lines = data.split(|&b| b == b'\n').enumerate().peekable();
    while let Some((i, raw)) = lines.next() {
        if lines.peek().is_none() && raw.is_empty() {
            break;
        }
        let mut line = raw.to_vec();
        // A line may open several blocks in turn: `a {{{`, text, `}}} b {{{`, ...
        while line.ends_with(b"{{{") {
            let binary = line.len() > 3 && line[line.len() - 4] == b'~';
            line.truncate(line.len() - if binary { 4 } else { 3 });
            let mut block: Vec<u8> = Vec::new();
            let mut closed = None;
            // Where the last line's text ends: its line end belongs to the
            // file, not the literal.
            let mut text_end = 0;
            for (_, l) in lines.by_ref() {
                if l.starts_with(b"}}}") {
                    closed = Some(l[3..].to_vec());
                    break;
                }
                if binary {
                    // As imaptest reads them: a CR before the LF is data, and
                    // lines are joined with LF.
                    block.extend_from_slice(l);
                    text_end = block.len();
                    block.push(b'\n');
                } else {
                    block.extend_from_slice(l.strip_suffix(b"\r").unwrap_or(l));
                    text_end = block.len();
                    block.extend_from_slice(b"\r\n");
                }
            }
            let Some(after) = closed else {
                return Err(format!("line {}: block not closed", i + 1));
            };
            block.truncate(text_end);
            let prefix = if binary { "~" } else { "" };
            line.extend_from_slice(format!("{prefix}{{{}}}\r\n", block.len()).as_bytes());
            line.extend_from_slice(&block);
            line.extend_from_slice(&after);
        }
        out.push((i + 1, line));
    }
    Ok(out)
}

pub fn parse_file(path: &Path) -> Result<Script, String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let own_mbox = path.with_file_name(format!("{name}.mbox"));
    let mbox = if own_mbox.exists() {
        own_mbox
    } else {
        path.with_file_name("default.mbox")
    };
    let mut script = Script {
        name: name.clone(),
        capabilities: Vec::new(),
        connections: 1,
        messages: Some(0),
        state: State::Selected,
        groups: Vec::new(),
        mbox,
    };
    let mut header = true;
    let mut skip_stack: Vec<(bool, bool)> = Vec::new();
    let mut skip = false;
    let mut pending = 0usize;
    for (n, raw) in logical_lines(&data).map_err(|e| format!("{name} {e}"))? {
        let raw: &[u8] = raw.strip_suffix(b"\r").unwrap_or(&raw);
        let text = String::from_utf8_lossy(raw).into_owned();
        let line = text.as_str();
        // Offsets below are taken in `line`; the prefixes they skip are ASCII, so they
        // hold in `raw` too (a binary literal only ever follows them).
        let raw_from = |suffix: &str| &raw[line.len() - suffix.len()..];
        if header {
            if line.is_empty() {
                header = false;
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            let (k, v) = line
                .split_once(':')
                .ok_or_else(|| err(&name, n, "missing ':'"))?;
            let v = v.trim();
            match k.trim().to_ascii_lowercase().as_str() {
                "capabilities" => {
                    script.capabilities = v.split_whitespace().map(str::to_string).collect()
                }
                "connections" => {
                    script.connections = v.parse().map_err(|_| err(&name, n, "connections"))?
                }
                "messages" => {
                    script.messages = if v == "all" {
                        None
                    } else {
                        Some(v.parse().map_err(|_| err(&name, n, "messages"))?)
                    }
                }
                "state" => {
                    script.state = match v.to_ascii_lowercase().as_str() {
                        "nonauth" => State::NonAuth,
                        "auth" => State::Auth,
                        "created" => State::Created,
                        "appended" => State::Appended,
                        "selected" => State::Selected,
                        _ => return Err(err(&name, n, "unknown state")),
                    }
                }
                "ignore_extra_untagged" => {}
                k if k.starts_with("user ") => {}
                _ => return Err(err(&name, n, "unknown header")),
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((env, wanted)) = line
            .strip_prefix("!ifenv ")
            .map(|e| (e, true))
            .or_else(|| line.strip_prefix("!ifnenv ").map(|e| (e, false)))
        {
            let set = std::env::var_os(env).is_some();
            skip_stack.push((skip, false));
            if set != wanted {
                skip = true;
            }
            continue;
        }
        if line == "!else" {
            let top = skip_stack
                .last_mut()
                .ok_or_else(|| err(&name, n, "!else"))?;
            top.1 = true;
            if !top.0 {
                skip = !skip;
            }
            continue;
        }
        if line == "!endif" {
            skip = skip_stack.pop().ok_or_else(|| err(&name, n, "!endif"))?.0;
            continue;
        }
        if skip {
            continue;
        }
        if let Some(group) = script.groups.last_mut() {
            if line.starts_with("!sleep ") || line.starts_with("!output ") || line == "!ordered" {
                continue;
            }
            if let Some(existence) = untagged_kind(line) {
                let args = tokenize(&raw[2..]).map_err(|e| err(&name, n, &e))?;
                group.untagged.push(Untagged { existence, args });
                continue;
            }
            if pending > 0 {
                let mut rest = line;
                let mut conn = 0;
                if script.connections > 1
                    && let Some((c, r)) = rest.split_once(' ')
                    && let Ok(c) = c.parse::<usize>()
                {
                    conn = c;
                    rest = r;
                }
                let (tag, reply, _) = split_reply(rest);
                if reply.is_some() {
                    if script.connections > 1 && conn != 0 && conn != group.conn {
                        return Err(err(&name, n, "reply for the wrong connection"));
                    }
                    let cmd = group
                        .commands
                        .iter_mut()
                        .find(|c| c.tag == tag)
                        .ok_or_else(|| err(&name, n, "reply for unknown tag"))?;
                    if cmd.reply.is_some() {
                        return Err(err(&name, n, "command already has a reply"));
                    }
                    let mut args = tokenize(raw_from(rest)).map_err(|e| err(&name, n, &e))?;
                    if tag != 0 && !args.is_empty() {
                        args.remove(0);
                    }
                    cmd.reply = Some(args);
                    pending -= 1;
                    continue;
                }
            }
        }
        // A new command: it starts a group unless earlier pipelined commands still wait
        // for their replies.
        let mut rest = line;
        let mut conn = 1;
        if script.connections > 1 {
            let (c, r) = rest.split_once(' ').unwrap_or((rest, ""));
            conn = c
                .parse()
                .map_err(|_| err(&name, n, "missing connection number"))?;
            script.connections = script.connections.max(conn);
            rest = r;
        }
        let (tag, reply, cmd_text) = split_reply(rest);
        if tag == 0 && pending > 0 {
            return Err(err(&name, n, "missing reply from the previous command"));
        }
        if pending == 0 {
            script.groups.push(Group {
                conn,
                ..Group::default()
            });
        }
        let group = script.groups.last_mut().ok_or("no group")?;
        if group.conn != conn {
            return Err(err(&name, n, "pipelined commands on two connections"));
        }
        if group.commands.is_empty()
            && let Some(existence) = untagged_kind(cmd_text)
        {
            group.banner = true;
            let args = tokenize(&raw_from(cmd_text)[2..]).map_err(|e| err(&name, n, &e))?;
            group.untagged.push(Untagged { existence, args });
            continue;
        }
        if tag != 0 && group.commands.iter().any(|c| c.tag == tag) {
            return Err(err(&name, n, "tag reused"));
        }
        let reply = match reply {
            Some(r) => Some(vec![Arg::Atom(r.to_string())]),
            None => {
                pending += 1;
                None
            }
        };
        group.commands.push(Cmd {
            line: n,
            tag,
            text: raw_from(cmd_text).to_vec(),
            reply,
        });
    }
    if pending > 0 {
        return Err(format!("{name}: missing reply at end of file"));
    }
    if script.groups.is_empty() {
        return Err(format!("{name}: no commands"));
    }
    Ok(script)
}

/// Every test script in `dir` (files without a `.mbox` suffix), sorted by name.
pub fn parse_dir(dir: &Path) -> Vec<(String, Result<Script, String>)> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    names.retain(|p| {
        let n = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        !n.starts_with('.') && !n.ends_with(".mbox") && p.is_file()
    });
    names.sort();
    names
        .into_iter()
        .map(|p| {
            let n = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (n, parse_file(&p))
        })
        .collect()
}

/// The messages of an mbox, with CRLF line ends and without the `From ` lines.
/// The INTERNALDATE of each message of an mbox file, from its `From ` line
/// (`From user@domain  Fri Feb 22 17:06:23 2008 [+0200]`), as an IMAP
/// date-time: imaptest appends with it.
pub fn read_mbox_dates(path: &Path) -> Vec<Option<String>> {
    let data = std::fs::read(path).unwrap_or_default();
    let mut dates = Vec::new();
    let mut prev_blank = true;
    for l in data.split(|&b| b == b'\n') {
        let body = l.strip_suffix(b"\r").unwrap_or(l);
        if prev_blank && body.starts_with(b"From ") {
            let text = String::from_utf8_lossy(body);
            let words: Vec<&str> = text.split_whitespace().skip(2).collect();
            let date = match words.as_slice() {
                [_, month, day, time, year, rest @ ..] => {
                    let zone = rest.first().copied().unwrap_or("+0000");
                    day.parse::<u32>()
                        .ok()
                        .map(|d| format!("{d:02}-{month}-{year} {time} {zone}"))
                }
                _ => None,
            };
            dates.push(date);
            prev_blank = false;
            continue;
        }
        prev_blank = body.is_empty();
    }
    dates
}

pub fn read_mbox(path: &Path) -> Vec<Vec<u8>> {
    let data = std::fs::read(path).unwrap_or_default();
    let mut msgs: Vec<Vec<u8>> = Vec::new();
    let mut cur: Option<Vec<u8>> = None;
    let mut prev_blank = true;
    for l in data.split_inclusive(|&b| b == b'\n') {
        let body = l.strip_suffix(b"\n").unwrap_or(l);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        if prev_blank && body.starts_with(b"From ") {
            if let Some(m) = cur.take() {
                msgs.push(m);
            }
            cur = Some(Vec::new());
            prev_blank = false;
            continue;
        }
        prev_blank = body.is_empty();
        if let Some(m) = cur.as_mut() {
            m.extend_from_slice(body);
            if l.ends_with(b"\n") {
                m.extend_from_slice(b"\r\n");
            }
        }
    }
    if let Some(m) = cur {
        msgs.push(m);
    }
    msgs
}
