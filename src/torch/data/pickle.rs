//! The subset of Python's pickle format that the official CIFAR python batches use: protocol 2
//! (written by Python 2's `cPickle`), a dict whose `data` is a NumPy `uint8` array and whose
//! labels are a list of small ints. Anything else is rejected with the opcode and offset, never
//! guessed at: no code from the file is ever run, a `GLOBAL` is only a name.
//!
//! Byte strings are kept as ranges into the input, so the 30 MB `data` string is copied once,
//! when the caller takes it.

use std::cell::RefCell;
use std::ops::Range;
use std::rc::Rc;

/// A value on the pickle machine's stack.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    None,
    Bool(bool),
    Int(i64),
    /// A byte or text string: its bytes in the input.
    Bytes(Range<usize>),
    /// Lists and dicts are shared with the memo, as in Python, so `APPENDS` after `BINPUT` is
    /// seen through a later `BINGET`.
    List(Rc<RefCell<Vec<Value>>>),
    Tuple(Vec<Value>),
    Dict(Rc<RefCell<Vec<(Value, Value)>>>),
    /// `module.name`, as named by `GLOBAL` (never imported).
    Global(String, String),
    /// `callable(*args)`, not called: the caller interprets known calls.
    Call(Box<Value>, Box<Value>),
    /// `obj.__setstate__(state)`, not applied.
    Build(Box<Value>, Box<Value>),
}

/// A stack entry: a value or a `MARK`.
enum Slot {
    Mark,
    Value(Value),
}

/// Parses a complete pickle and returns its single top-level value; `Err` says what is wrong and
/// where (byte offset).
pub(crate) fn parse(bytes: &[u8]) -> Result<Value, String> {
    let mut stack: Vec<Slot> = Vec::new();
    let mut memo: Vec<Option<Value>> = Vec::new();
    let mut at = 0usize;
    let take = |at: &mut usize, n: usize| -> Result<Range<usize>, String> {
        let end = at
            .checked_add(n)
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| format!("ends inside an opcode's argument at byte {} (truncated?)", *at))?;
        let r = *at..end;
        *at = end;
        Ok(r)
    };
    let u8_at = |at: &mut usize| -> Result<u8, String> { take(at, 1).map(|r| bytes[r.start]) };
    let u16_at = |at: &mut usize| -> Result<u16, String> {
        take(at, 2).map(|r| u16::from_le_bytes([bytes[r.start], bytes[r.start + 1]]))
    };
    let u32_at = |at: &mut usize| -> Result<u32, String> {
        take(at, 4)
            .map(|r| u32::from_le_bytes([bytes[r.start], bytes[r.start + 1], bytes[r.start + 2], bytes[r.start + 3]]))
    };
    let line = |at: &mut usize| -> Result<String, String> {
        let start = *at;
        let len = bytes[start..].iter().position(|&b| b == b'\n').ok_or("ends inside a `GLOBAL` name")?;
        *at = start + len + 1;
        String::from_utf8(bytes[start..start + len].to_vec()).map_err(|_| format!("non-UTF-8 name at byte {start}"))
    };
    fn pop(stack: &mut Vec<Slot>, op: usize) -> Result<Value, String> {
        match stack.pop() {
            Some(Slot::Value(v)) => Ok(v),
            _ => Err(format!("opcode at byte {op} needs a value on an empty stack")),
        }
    }
    fn pop_mark(stack: &mut Vec<Slot>, op: usize) -> Result<Vec<Value>, String> {
        let mark = stack
            .iter()
            .rposition(|s| matches!(s, Slot::Mark))
            .ok_or_else(|| format!("opcode at byte {op} needs a MARK"))?;
        let items = stack.drain(mark + 1..).filter_map(|s| if let Slot::Value(v) = s { Some(v) } else { None });
        let items = items.collect();
        stack.pop();
        Ok(items)
    }
    fn top(stack: &mut [Slot], op: usize) -> Result<&mut Value, String> {
        match stack.last_mut() {
            Some(Slot::Value(v)) => Ok(v),
            _ => Err(format!("opcode at byte {op} needs a value on an empty stack")),
        }
    }
    fn pairs(items: Vec<Value>, op: usize) -> Result<Vec<(Value, Value)>, String> {
        if !items.len().is_multiple_of(2) {
            return Err(format!("SETITEMS at byte {op} has an odd number of items"));
        }
        let mut it = items.into_iter();
        let mut out = Vec::new();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            out.push((k, v));
        }
        Ok(out)
    }
    loop {
        let op_at = at;
        let op = u8_at(&mut at).map_err(|_| format!("ends at byte {at} without a STOP opcode (truncated?)"))?;
        let value = match op {
            0x80 => {
                let proto = u8_at(&mut at)?;
                if proto != 2 {
                    return Err(format!("is pickle protocol {proto}; only protocol 2 (the official files) is read"));
                }
                continue;
            }
            b'.' => {
                let v = pop(&mut stack, op_at)?;
                if at != bytes.len() {
                    return Err(format!("has {} bytes after the end of the pickle", bytes.len() - at));
                }
                return Ok(v);
            }
            b'(' => {
                stack.push(Slot::Mark);
                continue;
            }
            b'N' => Value::None,
            0x88 => Value::Bool(true),
            0x89 => Value::Bool(false),
            b'K' => Value::Int(i64::from(u8_at(&mut at)?)),
            b'M' => Value::Int(i64::from(u16_at(&mut at)?)),
            b'J' => Value::Int(i64::from(u32_at(&mut at)? as i32)),
            0x8a => {
                // LONG1: little-endian two's complement of n bytes; only what fits in i64.
                let n = usize::from(u8_at(&mut at)?);
                if n > 8 {
                    return Err(format!("integer of {n} bytes at byte {op_at} is too large"));
                }
                let r = take(&mut at, n)?;
                let mut v: i64 = 0;
                for (i, &b) in bytes[r.clone()].iter().enumerate() {
                    v |= i64::from(b) << (8 * i);
                }
                if n > 0 && n < 8 && bytes[r.end - 1] & 0x80 != 0 {
                    v -= 1i64 << (8 * n);
                }
                Value::Int(v)
            }
            b'U' => {
                let n = usize::from(u8_at(&mut at)?);
                Value::Bytes(take(&mut at, n)?)
            }
            b'T' | b'X' => {
                let n = u32_at(&mut at)? as usize;
                Value::Bytes(take(&mut at, n)?)
            }
            b']' => Value::List(Rc::default()),
            b'}' => Value::Dict(Rc::default()),
            b')' => Value::Tuple(vec![]),
            b't' => Value::Tuple(pop_mark(&mut stack, op_at)?),
            0x85..=0x87 => {
                let n = usize::from(op - 0x84);
                if stack.len() < n || stack[stack.len() - n..].iter().any(|s| matches!(s, Slot::Mark)) {
                    return Err(format!("TUPLE{n} at byte {op_at} needs {n} values"));
                }
                let items =
                    stack.drain(stack.len() - n..).filter_map(|s| if let Slot::Value(v) = s { Some(v) } else { None });
                Value::Tuple(items.collect())
            }
            b'a' => {
                let v = pop(&mut stack, op_at)?;
                match top(&mut stack, op_at)? {
                    Value::List(l) => l.borrow_mut().push(v),
                    _ => return Err(format!("APPEND at byte {op_at} to a non-list")),
                }
                continue;
            }
            b'e' => {
                let items = pop_mark(&mut stack, op_at)?;
                match top(&mut stack, op_at)? {
                    Value::List(l) => l.borrow_mut().extend(items),
                    _ => return Err(format!("APPENDS at byte {op_at} to a non-list")),
                }
                continue;
            }
            b's' | b'u' => {
                let items = if op == b's' {
                    let v = pop(&mut stack, op_at)?;
                    let k = pop(&mut stack, op_at)?;
                    vec![(k, v)]
                } else {
                    pairs(pop_mark(&mut stack, op_at)?, op_at)?
                };
                match top(&mut stack, op_at)? {
                    Value::Dict(d) => d.borrow_mut().extend(items),
                    _ => return Err(format!("SETITEM(S) at byte {op_at} on a non-dict")),
                }
                continue;
            }
            b'c' => {
                let module = line(&mut at)?;
                let name = line(&mut at)?;
                Value::Global(module, name)
            }
            b'R' => {
                let args = pop(&mut stack, op_at)?;
                let f = pop(&mut stack, op_at)?;
                Value::Call(Box::new(f), Box::new(args))
            }
            b'b' => {
                let state = pop(&mut stack, op_at)?;
                let obj = pop(&mut stack, op_at)?;
                Value::Build(Box::new(obj), Box::new(state))
            }
            b'q' | b'r' => {
                let i = if op == b'q' { usize::from(u8_at(&mut at)?) } else { u32_at(&mut at)? as usize };
                let v = top(&mut stack, op_at)?.clone();
                if i > 1 << 20 {
                    return Err(format!("memo index {i} at byte {op_at} is implausibly large"));
                }
                if memo.len() <= i {
                    memo.resize(i + 1, None);
                }
                memo[i] = Some(v);
                continue;
            }
            b'h' | b'j' => {
                let i = if op == b'h' { usize::from(u8_at(&mut at)?) } else { u32_at(&mut at)? as usize };
                memo.get(i).cloned().flatten().ok_or_else(|| format!("memo entry {i} at byte {op_at} was never set"))?
            }
            other => {
                return Err(format!(
                    "has opcode {other:#04x} at byte {op_at}, which the official CIFAR files do not use"
                ))
            }
        };
        stack.push(Slot::Value(value));
    }
}

impl Value {
    /// The entry of a dict whose key is the string `key`.
    pub(crate) fn get(&self, bytes: &[u8], key: &str) -> Option<Value> {
        let Value::Dict(d) = self else { return None };
        let d = d.borrow();
        d.iter()
            .find(|(k, _)| matches!(k, Value::Bytes(r) if &bytes[r.clone()] == key.as_bytes()))
            .map(|(_, v)| v.clone())
    }
}
