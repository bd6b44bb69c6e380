//! Matching server replies against a script's expectations: `$var` binds on first use,
//! `$` matches anything, and `$!` directives (or imaptest's defaults) say which lists
//! are unordered and whether extra items are allowed.

use std::collections::HashMap;

use super::script::Arg;

pub type Vars = HashMap<String, Vec<u8>>;

fn arg_text(a: &Arg) -> Option<Vec<u8>> {
    match a {
        Arg::Atom(s) => Some(s.as_bytes().to_vec()),
        // imaptest compares strings as C strings: nothing after a NUL counts.
        Arg::Str(b) => Some(b.split(|&c| c == 0).next().unwrap_or_default().to_vec()),
        Arg::Nil => Some(b"NIL".to_vec()),
        Arg::List(_) => None,
    }
}

/// Splits a pattern into literal text and variable names.
fn pieces(p: &[u8]) -> Vec<(bool, Vec<u8>)> {
    let mut out: Vec<(bool, Vec<u8>)> = Vec::new();
    let mut i = 0;
    let mut lit = Vec::new();
    while i < p.len() {
        // `$$` is a literal `$` (keywords such as `$$hello` mean `$hello`).
        if p[i] == b'$' && p.get(i + 1) == Some(&b'$') {
            lit.push(b'$');
            i += 2;
            continue;
        }
        if p[i] == b'$' {
            let (name, next) = if p.get(i + 1) == Some(&b'{') {
                match p[i + 2..].iter().position(|&c| c == b'}') {
                    Some(e) => (p[i + 2..i + 2 + e].to_vec(), i + 3 + e),
                    None => (Vec::new(), i + 1),
                }
            } else {
                let e = p[i + 1..]
                    .iter()
                    .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                    .map_or(p.len(), |e| i + 1 + e);
                (p[i + 1..e].to_vec(), e)
            };
            if !name.is_empty() {
                if !lit.is_empty() {
                    out.push((false, std::mem::take(&mut lit)));
                }
                out.push((true, name));
                i = next;
                continue;
            }
        }
        lit.push(p[i]);
        i += 1;
    }
    if !lit.is_empty() {
        out.push((false, lit));
    }
    out
}

/// Replaces known `$vars` in `text`.
pub fn substitute(text: &[u8], vars: &Vars) -> Vec<u8> {
    let mut out = Vec::new();
    for (is_var, t) in pieces(text) {
        if is_var {
            match vars.get(&String::from_utf8_lossy(&t).into_owned()) {
                Some(v) => out.extend_from_slice(v),
                None => {
                    out.push(b'$');
                    out.extend_from_slice(&t);
                }
            }
        } else {
            out.extend_from_slice(&t);
        }
    }
    out
}

fn match_pieces(p: &[(bool, Vec<u8>)], a: &[u8], vars: &mut Vars) -> bool {
    let Some(((is_var, t), rest)) = p.split_first() else {
        return a.is_empty();
    };
    if !is_var {
        return a.len() >= t.len()
            && a[..t.len()].eq_ignore_ascii_case(t)
            && match_pieces(rest, &a[t.len()..], vars);
    }
    let name = String::from_utf8_lossy(t).into_owned();
    if let Some(v) = vars.get(&name).cloned() {
        return a.len() >= v.len()
            && a[..v.len()].eq_ignore_ascii_case(&v)
            && match_pieces(rest, &a[v.len()..], vars);
    }
    // An unbound variable takes the shortest value that lets the rest match.
    for end in 0..=a.len() {
        if end > 0 && matches!(a[end - 1], b' ' | b')' | b']' | b'(') && !rest.is_empty() {
            break;
        }
        let mut trial = vars.clone();
        trial.insert(name.clone(), a[..end].to_vec());
        if match_pieces(rest, &a[end..], &mut trial) {
            *vars = trial;
            return true;
        }
    }
    false
}

#[derive(Clone, Default)]
struct Directives {
    unordered: Option<usize>,
    noextra: bool,
    extra: bool,
    ignore: Vec<String>,
    ban: Vec<String>,
}

fn read_directives(exp: &[Arg]) -> (Option<Directives>, &[Arg]) {
    let mut d = Directives::default();
    let mut n = 0;
    for a in exp {
        let Arg::Atom(s) = a else { break };
        let Some(dir) = s.strip_prefix("$!") else {
            break;
        };
        if dir == "unordered" {
            d.unordered = Some(1);
        } else if let Some(c) = dir.strip_prefix("unordered=") {
            d.unordered = Some(c.parse().unwrap_or(1));
        } else if dir == "noextra" {
            d.noextra = true;
        } else if dir == "extra" {
            d.extra = true;
        } else if let Some(x) = dir.strip_prefix("ignore=") {
            d.ignore.push(x.to_ascii_lowercase());
        } else if let Some(x) = dir.strip_prefix("ban=") {
            d.ban.push(x.to_ascii_lowercase());
        }
        n += 1;
    }
    if n == 0 {
        (None, exp)
    } else {
        (Some(d), &exp[n..])
    }
}

/// Where a list sits, for imaptest's default directives.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub reply: &'a str,
    pub depth: usize,
    pub index: usize,
    pub prev_atom: Option<&'a str>,
}

fn defaults(ctx: Ctx<'_>) -> Directives {
    let mut d = Directives::default();
    match ctx.reply {
        "list" | "lsub" if ctx.depth == 1 && ctx.index == 1 => d.unordered = Some(1),
        "status" if ctx.depth == 1 && ctx.index == 2 => d.unordered = Some(2),
        "fetch" if ctx.depth == 1 && ctx.index == 2 => d.unordered = Some(2),
        "fetch" if ctx.depth == 2 && ctx.prev_atom == Some("flags") => {
            d.unordered = Some(1);
            d.noextra = true;
            d.ignore = vec![
                "\\recent".into(),
                "$hasattachment".into(),
                "$hasnoattachment".into(),
            ];
        }
        _ => {}
    }
    d
}

fn is_ignored(a: &Arg, d: &Directives) -> bool {
    match a {
        Arg::Atom(s) => d.ignore.iter().any(|i| i.eq_ignore_ascii_case(s)),
        _ => false,
    }
}

pub fn match_arg(exp: &Arg, act: &Arg, vars: &mut Vars, ctx: Ctx<'_>) -> bool {
    match (exp, act) {
        (Arg::Atom(e), _) if e == "$" => true,
        (Arg::List(e), Arg::List(a)) => match_list(e, a, vars, ctx),
        (Arg::List(_), _) | (_, Arg::List(_)) => false,
        (Arg::Nil, Arg::Nil) => true,
        (e, a) => {
            let (Some(et), Some(at)) = (arg_text(e), arg_text(a)) else {
                return false;
            };
            match_pieces(&pieces(&et), &at, vars)
        }
    }
}

/// Matches a list's items; `ctx` describes the list itself.
pub fn match_list(exp: &[Arg], act: &[Arg], vars: &mut Vars, ctx: Ctx<'_>) -> bool {
    let (explicit, exp) = read_directives(exp);
    let d = explicit.unwrap_or_else(|| defaults(ctx));
    // An ignored item is ignored when the script does not name it; when it
    // does (e.g. `\recent`), it must be there.
    let named = |a: &Arg| {
        exp.iter().any(|e| match (e, a) {
            (Arg::Atom(x), Arg::Atom(y)) => x.eq_ignore_ascii_case(y),
            _ => false,
        })
    };
    let act: Vec<&Arg> = act
        .iter()
        .filter(|a| !is_ignored(a, &d) || named(a))
        .collect();
    for b in &d.ban {
        if act
            .iter()
            .any(|a| matches!(a, Arg::Atom(s) if s.eq_ignore_ascii_case(b)))
        {
            return false;
        }
    }
    let child = |i: usize, prev: Option<&'static str>| Ctx {
        reply: ctx.reply,
        depth: ctx.depth + 1,
        index: i,
        prev_atom: prev,
    };
    let prev_of = |items: &[&Arg], i: usize| -> Option<&'static str> {
        match i.checked_sub(1).and_then(|p| items.get(p)) {
            Some(Arg::Atom(s)) if s.eq_ignore_ascii_case("flags") => Some("flags"),
            _ => None,
        }
    };
    match d.unordered {
        None => {
            if act.len() < exp.len() || (act.len() > exp.len() && !d.extra) {
                return false;
            }
            let mut trial = vars.clone();
            for (i, (e, a)) in exp.iter().zip(act.iter()).enumerate() {
                if !match_arg(e, a, &mut trial, child(i, prev_of(&act, i))) {
                    return false;
                }
            }
            *vars = trial;
            true
        }
        Some(chain) => {
            let chain = chain.max(1);
            if !exp.len().is_multiple_of(chain) || !act.len().is_multiple_of(chain) {
                return false;
            }
            let mut used = vec![false; act.len() / chain];
            let mut trial = vars.clone();
            for ec in exp.chunks(chain) {
                let mut found = false;
                for (ai, ac) in act.chunks(chain).enumerate() {
                    if used[ai] {
                        continue;
                    }
                    let mut t = trial.clone();
                    let ok = ec.iter().zip(ac.iter()).enumerate().all(|(k, (e, a))| {
                        let idx = ai * chain + k;
                        match_arg(e, a, &mut t, child(idx, prev_of(&act, idx)))
                    });
                    if ok {
                        used[ai] = true;
                        trial = t;
                        found = true;
                        break;
                    }
                }
                if !found {
                    return false;
                }
            }
            if d.noextra && used.iter().any(|u| !u) {
                return false;
            }
            *vars = trial;
            true
        }
    }
}

/// Matches a whole untagged reply (without `* `).
pub fn match_untagged(exp: &[Arg], act: &[Arg], vars: &mut Vars) -> bool {
    let name_at = |args: &[Arg]| -> String {
        let first = match args.first() {
            Some(Arg::Atom(s)) => s.clone(),
            _ => String::new(),
        };
        if first.starts_with('$') || first.starts_with(|c: char| c.is_ascii_digit()) {
            match args.get(1) {
                Some(Arg::Atom(s)) => s.to_ascii_lowercase(),
                _ => String::new(),
            }
        } else {
            first.to_ascii_lowercase()
        }
    };
    let reply = name_at(exp);
    let status = matches!(reply.as_str(), "ok" | "no" | "bad" | "bye" | "preauth");
    let mut explicit = exp.to_vec();
    if status && !matches!(exp.first(), Some(Arg::Atom(s)) if s.starts_with("$!")) {
        explicit.insert(0, Arg::Atom("$!extra".into()));
    }
    match_list(
        &explicit,
        act,
        vars,
        Ctx {
            reply: &reply,
            depth: 0,
            index: 0,
            prev_atom: None,
        },
    )
}

/// Matches a tagged reply (without the tag): status word, then `exp` as a prefix.
pub fn match_tagged(exp: &[Arg], act: &[Arg], vars: &mut Vars) -> bool {
    // `""` in place of ok/no/bad accepts any reply.
    match exp.first() {
        Some(Arg::Atom(s)) if s.is_empty() => return true,
        Some(Arg::Str(s)) if s.is_empty() => return true,
        _ => {}
    }
    let mut e = vec![Arg::Atom("$!extra".into())];
    e.extend_from_slice(exp);
    match_list(
        &e,
        act,
        vars,
        Ctx {
            reply: "",
            depth: 0,
            index: 0,
            prev_atom: None,
        },
    )
}
