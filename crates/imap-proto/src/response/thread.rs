//! THREAD responses (RFC 5256 4): nested lists of message numbers.

/// One node of a thread tree: a message (`id`) or, as `None`, a placeholder for
/// a message that is not in the mailbox, holding the children it groups.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ThreadNode {
    pub id: Option<u32>,
    pub children: Vec<ThreadNode>,
}

impl ThreadNode {
    pub fn message(id: u32, children: Vec<ThreadNode>) -> ThreadNode {
        ThreadNode {
            id: Some(id),
            children,
        }
    }
}

/// A long reply chain is a deep tree: take it apart without recursing.
impl Drop for ThreadNode {
    fn drop(&mut self) {
        let mut stack = std::mem::take(&mut self.children);
        while let Some(mut n) = stack.pop() {
            stack.append(&mut n.children);
        }
    }
}

/// `THREAD [SP 1*thread-list]`, after `* `. A single child continues the list
/// (`(1 2 3)`); several children are nested lists (`(1 (2)(3))`). Iterative, so
/// that a deep tree cannot exhaust the stack.
pub(crate) fn encode(threads: &[ThreadNode], out: &mut Vec<u8>) {
    enum Step<'a> {
        Open,
        Close,
        Members(&'a ThreadNode),
    }
    out.extend_from_slice(b"THREAD");
    if !threads.is_empty() {
        out.push(b' ');
    }
    let mut stack: Vec<Step<'_>> = Vec::new();
    for t in threads.iter().rev() {
        stack.push(Step::Close);
        stack.push(Step::Members(t));
        stack.push(Step::Open);
    }
    while let Some(step) = stack.pop() {
        let mut cur = match step {
            Step::Open => {
                out.push(b'(');
                continue;
            }
            Step::Close => {
                out.push(b')');
                continue;
            }
            Step::Members(n) => n,
        };
        let mut first = true;
        loop {
            if let Some(id) = cur.id {
                if !first {
                    out.push(b' ');
                }
                out.extend_from_slice(id.to_string().as_bytes());
                first = false;
            }
            match cur.children.as_slice() {
                [] => break,
                // One child continues the list; a placeholder with one child is it.
                [only] => cur = only,
                many => {
                    if !first {
                        out.push(b' ');
                    }
                    for c in many.iter().rev() {
                        stack.push(Step::Close);
                        stack.push(Step::Members(c));
                        stack.push(Step::Open);
                    }
                    break;
                }
            }
        }
    }
}
