//! THREAD (RFC 5256 4): ORDEREDSUBJECT and REFERENCES over the messages a
//! search matched. Every traversal is iterative, so that a long reply chain
//! cannot exhaust the stack.

use std::cmp::Ordering;
use std::collections::HashMap;

use imap_proto::ThreadNode;

use crate::sort::{casemap, subject};

/// What threading knows of one message.
pub(crate) struct Item {
    /// The number reported (sequence number or UID).
    pub id: u32,
    /// Mailbox order, for ties.
    pub seq: u32,
    /// The sent date (RFC 5256 2.2): Date:, else the INTERNALDATE.
    pub date: i64,
    pub subject: String,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
}

/// References beyond this many per message are ignored (a truncated
/// References field is normal, RFC 5256 4 step 1.A).
const MAX_REFERENCES: usize = 1_000;

struct Subject {
    /// The base subject under `i;unicode-casemap`.
    key: String,
    refwd: bool,
}

fn subject_of(it: &Item) -> Subject {
    let (base, refwd) = subject::base_subject(&it.subject);
    Subject {
        key: casemap::key(&base),
        refwd,
    }
}

fn by_date(a: &Item, b: &Item) -> Ordering {
    a.date.cmp(&b.date).then(a.seq.cmp(&b.seq))
}

/// ORDEREDSUBJECT: threads of equal base subject in date order; the first
/// message is the parent of all the others; threads ordered by their first.
pub(crate) fn ordered_subject(items: &[Item]) -> Vec<ThreadNode> {
    let subjects: Vec<Subject> = items.iter().map(subject_of).collect();
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| {
        subjects[a]
            .key
            .cmp(&subjects[b].key)
            .then_with(|| by_date(&items[a], &items[b]))
    });
    let mut threads: Vec<(usize, ThreadNode)> = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let key = &subjects[order[i]].key;
        let mut j = i + 1;
        while j < order.len() && &subjects[order[j]].key == key {
            j += 1;
        }
        let children = order[i + 1..j]
            .iter()
            .map(|&k| ThreadNode::message(items[k].id, Vec::new()))
            .collect();
        threads.push((order[i], ThreadNode::message(items[order[i]].id, children)));
        i = j;
    }
    threads.sort_by(|a, b| by_date(&items[a.0], &items[b.0]));
    threads.into_iter().map(|(_, t)| t).collect()
}

/// A node of the REFERENCES tree: a message or a placeholder (dummy).
struct Node {
    item: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    fn add(&mut self, item: Option<usize>) -> usize {
        self.nodes.push(Node {
            item,
            parent: None,
            children: Vec::new(),
        });
        self.nodes.len() - 1
    }

    /// Whether `a` is `b` or lies under it.
    fn within(&self, a: usize, b: usize) -> bool {
        let mut cur = Some(a);
        while let Some(n) = cur {
            if n == b {
                return true;
            }
            cur = self.nodes[n].parent;
        }
        false
    }

    fn unlink(&mut self, child: usize) {
        if let Some(p) = self.nodes[child].parent.take() {
            self.nodes[p].children.retain(|&c| c != child);
        }
    }

    fn link(&mut self, parent: usize, child: usize) {
        self.nodes[child].parent = Some(parent);
        self.nodes[parent].children.push(child);
    }
}

/// REFERENCES (RFC 5256 4, steps 1 to 6).
pub(crate) fn references(items: &[Item]) -> Vec<ThreadNode> {
    let mut tree = Tree { nodes: Vec::new() };
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| items[i].seq);
    for &i in &order {
        let it = &items[i];
        // (1) The message's own node: a duplicate or missing Message-ID gets
        // a node of its own.
        let me = match it.message_id.as_deref().filter(|s| !s.is_empty()) {
            Some(id) => match by_id.get(id) {
                Some(&n) if tree.nodes[n].item.is_none() => {
                    tree.nodes[n].item = Some(i);
                    n
                }
                Some(_) => tree.add(Some(i)),
                None => {
                    let n = tree.add(Some(i));
                    by_id.insert(id, n);
                    n
                }
            },
            None => tree.add(Some(i)),
        };
        // (1.A) References (else the first In-Reply-To id) link in order.
        let refs: Vec<&str> = if it.references.is_empty() {
            it.in_reply_to.as_deref().into_iter().collect()
        } else {
            let skip = it.references.len().saturating_sub(MAX_REFERENCES);
            it.references[skip..].iter().map(String::as_str).collect()
        };
        let mut prev: Option<usize> = None;
        for r in refs {
            let n = match by_id.get(r) {
                Some(&n) => n,
                None => {
                    let n = tree.add(None);
                    by_id.insert(r, n);
                    n
                }
            };
            if let Some(p) = prev
                && p != n
                && tree.nodes[n].parent.is_none()
                && !tree.within(p, n)
            {
                tree.link(p, n);
            }
            prev = Some(n);
        }
        // (1.B) The last reference is the parent, replacing any earlier link.
        // The old link goes even when the new one would make a loop.
        tree.unlink(me);
        if let Some(p) = prev
            && p != me
            && !tree.within(p, me)
        {
            tree.link(p, me);
        }
    }
    // (2) The root set.
    let roots: Vec<usize> = (0..tree.nodes.len())
        .filter(|&n| tree.nodes[n].parent.is_none())
        .collect();
    // (3) Prune placeholders, children before parents.
    let mut roots = prune(&mut tree, roots);
    // (4) Sort the root set by date; a placeholder's children first, so that
    // its first child is the one it sorts and groups by.
    for &r in &roots {
        if tree.nodes[r].item.is_none() {
            let mut kids = std::mem::take(&mut tree.nodes[r].children);
            sort_level(&tree, items, &mut kids);
            tree.nodes[r].children = kids;
        }
    }
    sort_level(&tree, items, &mut roots);
    // (5) Group threads by base subject.
    let roots = group_by_subject(&mut tree, items, roots);
    // (6) Sort every set of siblings, deepest first, then the roots.
    let mut post = Vec::new();
    let mut stack: Vec<usize> = roots.clone();
    while let Some(n) = stack.pop() {
        post.push(n);
        stack.extend(tree.nodes[n].children.iter().copied());
    }
    for &n in post.iter().rev() {
        let mut kids = std::mem::take(&mut tree.nodes[n].children);
        sort_level(&tree, items, &mut kids);
        tree.nodes[n].children = kids;
    }
    let mut roots = roots;
    sort_level(&tree, items, &mut roots);
    emit(&tree, items, &roots)
}

/// The item a node sorts and groups by: its message, or a placeholder's
/// first child's.
fn representative(tree: &Tree, n: usize) -> Option<usize> {
    tree.nodes[n].item.or_else(|| {
        tree.nodes[n]
            .children
            .first()
            .and_then(|&c| tree.nodes[c].item)
    })
}

fn sort_level(tree: &Tree, items: &[Item], level: &mut [usize]) {
    // A placeholder sorts by its earliest child.
    let key = |n: usize| -> Option<(i64, u32)> {
        match tree.nodes[n].item {
            Some(i) => Some((items[i].date, items[i].seq)),
            None => tree.nodes[n]
                .children
                .iter()
                .filter_map(|&c| tree.nodes[c].item)
                .map(|i| (items[i].date, items[i].seq))
                .min(),
        }
    };
    level.sort_by_key(|&n| key(n));
}

/// Step 3: placeholders without children go; those with children give them to
/// their parent, except at the top where only a single child is promoted.
fn prune(tree: &mut Tree, roots: Vec<usize>) -> Vec<usize> {
    let mut post = Vec::new();
    let mut stack = roots.clone();
    while let Some(n) = stack.pop() {
        post.push(n);
        stack.extend(tree.nodes[n].children.iter().copied());
    }
    for &n in post.iter().rev() {
        let kids = std::mem::take(&mut tree.nodes[n].children);
        let mut out = Vec::with_capacity(kids.len());
        for c in kids {
            if tree.nodes[c].item.is_some() {
                out.push(c);
            } else {
                // Its own children are pruned already.
                let grand = std::mem::take(&mut tree.nodes[c].children);
                for &g in &grand {
                    tree.nodes[g].parent = Some(n);
                }
                out.extend(grand);
            }
        }
        tree.nodes[n].children = out;
    }
    let mut top = Vec::with_capacity(roots.len());
    for r in roots {
        if tree.nodes[r].item.is_some() {
            top.push(r);
            continue;
        }
        match tree.nodes[r].children.len() {
            0 => {}
            1 => {
                let c = tree.nodes[r].children[0];
                tree.nodes[c].parent = None;
                top.push(c);
            }
            _ => top.push(r),
        }
    }
    top
}

/// Step 5: threads whose base subjects match are merged.
fn group_by_subject(tree: &mut Tree, items: &[Item], roots: Vec<usize>) -> Vec<usize> {
    let subjects: HashMap<usize, Subject> = roots
        .iter()
        .filter_map(|&r| representative(tree, r).map(|i| (r, subject_of(&items[i]))))
        .collect();
    let is_dummy = |tree: &Tree, n: usize| tree.nodes[n].item.is_none();
    let refwd = |n: usize| subjects.get(&n).is_some_and(|s| s.refwd);
    // (5.B) One thread per subject.
    let mut table: HashMap<String, usize> = HashMap::new();
    for &r in &roots {
        let Some(s) = subjects.get(&r).filter(|s| !s.key.is_empty()) else {
            continue;
        };
        match table.get(&s.key) {
            None => {
                table.insert(s.key.clone(), r);
            }
            Some(&t) => {
                if !is_dummy(tree, t) && (is_dummy(tree, r) || (refwd(t) && !refwd(r))) {
                    table.insert(s.key.clone(), r);
                }
            }
        }
    }
    // (5.C) Merge.
    let mut gone = vec![false; tree.nodes.len()];
    let mut added: HashMap<usize, usize> = HashMap::new();
    for &r in &roots {
        let Some(s) = subjects.get(&r).filter(|s| !s.key.is_empty()) else {
            continue;
        };
        let Some(&t) = table.get(&s.key) else {
            continue;
        };
        if t == r {
            continue;
        }
        match (is_dummy(tree, t), is_dummy(tree, r)) {
            (true, true) => {
                let kids = std::mem::take(&mut tree.nodes[r].children);
                for k in kids {
                    tree.link(t, k);
                }
            }
            (true, false) => tree.link(t, r),
            _ if refwd(r) && !refwd(t) => tree.link(t, r),
            _ => {
                let d = tree.add(None);
                gone.push(false);
                if tree.nodes[t].parent.is_none() {
                    // `t` is a root: the placeholder takes its place.
                    gone[t] = true;
                    added.insert(t, d);
                } else {
                    tree.unlink(t);
                }
                tree.link(d, t);
                tree.link(d, r);
                table.insert(s.key.clone(), d);
            }
        }
        gone[r] = true;
    }
    let mut out = Vec::with_capacity(roots.len());
    for r in roots {
        if let Some(&d) = added.get(&r) {
            out.push(d);
        } else if !gone[r] {
            out.push(r);
        }
    }
    out
}

/// The tree as the response carries it.
fn emit(tree: &Tree, items: &[Item], roots: &[usize]) -> Vec<ThreadNode> {
    // Built bottom-up so that no recursion is needed.
    let mut post = Vec::new();
    let mut stack: Vec<usize> = roots.to_vec();
    while let Some(n) = stack.pop() {
        post.push(n);
        stack.extend(tree.nodes[n].children.iter().copied());
    }
    let mut built: HashMap<usize, ThreadNode> = HashMap::with_capacity(post.len());
    for &n in post.iter().rev() {
        let children = tree.nodes[n]
            .children
            .iter()
            .filter_map(|c| built.remove(c))
            .collect();
        built.insert(
            n,
            ThreadNode {
                id: tree.nodes[n].item.map(|i| items[i].id),
                children,
            },
        );
    }
    roots.iter().filter_map(|r| built.remove(r)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(seq: u32, date: i64, subject: &str, id: &str, refs: &[&str]) -> Item {
        Item {
            id: seq,
            seq,
            date,
            subject: subject.into(),
            message_id: (!id.is_empty()).then(|| id.to_string()),
            in_reply_to: None,
            references: refs.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn wire(t: Vec<ThreadNode>) -> String {
        let d = imap_proto::Data::Thread(t);
        let b = imap_proto::Response::Data(d).to_bytes(&Default::default());
        String::from_utf8(b)
            .unwrap_or_default()
            .trim_end()
            .to_string()
    }

    #[test]
    fn ordered_subject_groups_by_base_subject() {
        let items = vec![
            item(1, 10, "a", "", &[]),
            item(2, 20, "b", "", &[]),
            item(3, 30, "Re: a", "", &[]),
            item(4, 5, "c", "", &[]),
            item(5, 40, "RE: A", "", &[]),
        ];
        assert_eq!(wire(ordered_subject(&items)), "* THREAD (4)(1 (3)(5))(2)");
    }

    #[test]
    fn references_chains_and_placeholders() {
        let items = vec![
            item(1, 1, "x", "<a>", &[]),
            item(2, 2, "Re: x", "<b>", &["<a>"]),
            item(3, 3, "Re: x", "<c>", &["<a>", "<b>"]),
            item(4, 4, "Re: x", "<d>", &["<a>"]),
            item(5, 5, "y", "<e>", &["<missing>"]),
            item(6, 6, "z", "<f>", &["<missing>"]),
        ];
        assert_eq!(wire(references(&items)), "* THREAD (1 (2 3)(4))((5)(6))");
    }

    #[test]
    fn references_merges_subjects_and_survives_loops() {
        let items = vec![
            item(1, 1, "hello", "<a>", &["<b>"]),
            item(2, 2, "Re: hello", "<b>", &["<a>"]),
            item(3, 3, "other", "<a>", &[]),
            item(4, 4, "Re: other", "<x>", &[]),
        ];
        // 1 and 2 reference each other; 3 duplicates 1's id; 4 joins 3 by subject.
        let out = wire(references(&items));
        assert!(out.starts_with("* THREAD "), "{out}");
        assert!(out.contains("(3 4)"), "{out}");
    }

    #[test]
    fn long_chains_do_not_recurse() {
        let n = 20_000u32;
        let ids: Vec<String> = (0..n).map(|i| format!("<m{i}>")).collect();
        let items: Vec<Item> = (0..n)
            .map(|i| Item {
                id: i + 1,
                seq: i + 1,
                date: i as i64,
                subject: "s".into(),
                message_id: Some(ids[i as usize].clone()),
                in_reply_to: (i > 0).then(|| ids[i as usize - 1].clone()),
                references: Vec::new(),
            })
            .collect();
        let out = wire(references(&items));
        assert!(out.starts_with("* THREAD (1 2 3 "));
        assert!(out.ends_with(&format!(" {n})")));
    }
}
