//! Bencode, the encoding of ng messages: integers (`i42e`), byte strings
//! (`4:spam`), lists (`l...e`) and dictionaries with byte-string keys
//! (`d...e`).
//!
//! [`encode`] writes dictionaries with their keys sorted (the canonical
//! form). [`decode`] is strict where the form is ambiguous (leading zeros,
//! `-0`, trailing bytes, duplicate keys) and bounded ([`MAX_DEPTH`],
//! [`MAX_INPUT`]); it accepts unsorted keys, since rtpengine writes its
//! keys in insertion order. Every [`DecodeError`] names the byte where the
//! input went wrong; it is always the sender's fault.

use std::collections::BTreeMap;
use std::fmt;

/// Deepest nesting of lists and dictionaries [`decode`] accepts.
pub const MAX_DEPTH: usize = 32;

/// Largest input [`decode`] accepts, in bytes (an ng datagram is at most 64 KiB).
pub const MAX_INPUT: usize = 1 << 20;

/// A bencoded value.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Value {
    /// An integer (`i-3e`).
    Int(i64),
    /// A byte string (`3:abc`); ng puts UTF-8 text in them.
    Bytes(Vec<u8>),
    /// A list (`l...e`).
    List(Vec<Value>),
    /// A dictionary (`d...e`), keys sorted.
    Dict(BTreeMap<Vec<u8>, Value>),
}

/// Builds a dictionary from `(key, value)` pairs; a repeated key keeps the last value.
pub fn dict<'a>(pairs: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
    Value::Dict(pairs.into_iter().map(|(k, v)| (k.as_bytes().to_vec(), v)).collect())
}

/// Builds a list of byte strings from text items (`list(["offer", "accept"])`).
pub fn list<'a>(items: impl IntoIterator<Item = &'a str>) -> Value {
    Value::List(items.into_iter().map(Value::from).collect())
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Bytes(s.as_bytes().to_vec())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Bytes(s.into_bytes())
    }
}

impl From<&[u8]> for Value {
    fn from(b: &[u8]) -> Self {
        Value::Bytes(b.to_vec())
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::List(items)
    }
}

impl Value {
    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The bytes, if this is a byte string.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The text, if this is a byte string holding UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        self.as_bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// The items, if this is a list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The entries, if this is a dictionary.
    pub fn as_dict(&self) -> Option<&BTreeMap<Vec<u8>, Value>> {
        match self {
            Value::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// The value under `key`, if this is a dictionary holding it.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_dict().and_then(|d| d.get(key.as_bytes()))
    }

    /// The text under `key` (a UTF-8 byte string), if any.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }

    /// The integer under `key`, if any.
    pub fn get_int(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(Value::as_int)
    }

    /// The list under `key`, if any.
    pub fn get_list(&self, key: &str) -> Option<&[Value]> {
        self.get(key).and_then(Value::as_list)
    }

    /// The dictionary under `key`, if any.
    pub fn get_dict(&self, key: &str) -> Option<&BTreeMap<Vec<u8>, Value>> {
        self.get(key).and_then(Value::as_dict)
    }

    /// Sets `key` to `value` when this is a dictionary (otherwise does nothing).
    pub fn insert(&mut self, key: &str, value: Value) {
        if let Value::Dict(d) = self {
            d.insert(key.as_bytes().to_vec(), value);
        }
    }

    /// This value, bencoded.
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }
}

/// Bencodes `value` (dictionary keys in sorted order).
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(value, &mut out);
    out
}

fn encode_into(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Int(i) => {
            out.push(b'i');
            out.extend_from_slice(i.to_string().as_bytes());
            out.push(b'e');
        }
        Value::Bytes(b) => encode_bytes(b, out),
        Value::List(items) => {
            out.push(b'l');
            for item in items {
                encode_into(item, out);
            }
            out.push(b'e');
        }
        Value::Dict(entries) => {
            out.push(b'd');
            for (k, v) in entries {
                encode_bytes(k, out);
                encode_into(v, out);
            }
            out.push(b'e');
        }
    }
}

fn encode_bytes(b: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(b);
}

/// Shown as JSON-like text, byte strings as (lossy) UTF-8: for logs.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Bytes(b) => write!(f, "{:?}", String::from_utf8_lossy(b)),
            Value::List(items) => {
                f.write_str("[")?;
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Dict(entries) => {
                f.write_str("{")?;
                for (n, (k, v)) in entries.iter().enumerate() {
                    if n > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{:?}: {v}", String::from_utf8_lossy(k))?;
                }
                f.write_str("}")
            }
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why [`decode`] refused its input, and at which byte (0-based). Always
/// the sender's fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// What is wrong.
    pub kind: DecodeErrorKind,
    /// The offset of the byte where it went wrong.
    pub offset: usize,
}

/// What is wrong with a bencoded input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ends inside a value (or is empty).
    UnexpectedEnd,
    /// A byte that cannot start or continue a value here.
    UnexpectedByte(u8),
    /// An integer or a string length with a leading zero (`i03e`, `03:abc`).
    LeadingZero,
    /// The integer `-0`.
    NegativeZero,
    /// An integer with no digits (`ie`, `i-e`).
    EmptyInteger,
    /// An integer outside `i64`, or a string length beyond any input.
    Overflow,
    /// A string length that runs past the end of the input.
    StringPastEnd {
        /// The declared length.
        len: usize,
    },
    /// A dictionary key that is not a byte string.
    KeyNotString,
    /// The same key twice in one dictionary.
    DuplicateKey,
    /// Lists and dictionaries nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// An input longer than [`MAX_INPUT`].
    TooLarge {
        /// The input's length.
        len: usize,
    },
    /// Bytes after the one complete value.
    TrailingBytes,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bencode from the peer: ")?;
        match &self.kind {
            DecodeErrorKind::UnexpectedEnd => f.write_str("input ends inside a value")?,
            DecodeErrorKind::UnexpectedByte(b) => write!(f, "unexpected byte 0x{b:02x}")?,
            DecodeErrorKind::LeadingZero => f.write_str("number with a leading zero")?,
            DecodeErrorKind::NegativeZero => f.write_str("integer -0")?,
            DecodeErrorKind::EmptyInteger => f.write_str("integer without digits")?,
            DecodeErrorKind::Overflow => f.write_str("number too large")?,
            DecodeErrorKind::StringPastEnd { len } => write!(f, "string of {len} bytes runs past the end")?,
            DecodeErrorKind::KeyNotString => f.write_str("dictionary key is not a byte string")?,
            DecodeErrorKind::DuplicateKey => f.write_str("duplicate dictionary key")?,
            DecodeErrorKind::TooDeep => write!(f, "nested deeper than {MAX_DEPTH}")?,
            DecodeErrorKind::TooLarge { len } => write!(f, "input of {len} bytes exceeds {MAX_INPUT}")?,
            DecodeErrorKind::TrailingBytes => f.write_str("trailing bytes after the value")?,
        }
        write!(f, " at byte {}", self.offset)
    }
}

impl std::error::Error for DecodeError {}

/// Decodes exactly one bencoded value filling all of `input`.
pub fn decode(input: &[u8]) -> Result<Value, DecodeError> {
    if input.len() > MAX_INPUT {
        return Err(DecodeError { kind: DecodeErrorKind::TooLarge { len: input.len() }, offset: 0 });
    }
    let mut d = Decoder { input, pos: 0 };
    let value = d.value(0)?;
    if d.pos != input.len() {
        return Err(d.err(DecodeErrorKind::TrailingBytes));
    }
    Ok(value)
}

struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
}

impl Decoder<'_> {
    fn err(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError { kind, offset: self.pos }
    }

    fn peek(&self) -> Result<u8, DecodeError> {
        self.input.get(self.pos).copied().ok_or_else(|| self.err(DecodeErrorKind::UnexpectedEnd))
    }

    fn value(&mut self, depth: usize) -> Result<Value, DecodeError> {
        match self.peek()? {
            b'i' => {
                self.pos += 1;
                self.int().map(Value::Int)
            }
            b'0'..=b'9' => self.bytes().map(Value::Bytes),
            b'l' | b'd' if depth >= MAX_DEPTH => Err(self.err(DecodeErrorKind::TooDeep)),
            b'l' => {
                self.pos += 1;
                let mut items = Vec::new();
                while self.peek()? != b'e' {
                    items.push(self.value(depth + 1)?);
                }
                self.pos += 1;
                Ok(Value::List(items))
            }
            b'd' => {
                self.pos += 1;
                let mut entries = BTreeMap::new();
                while self.peek()? != b'e' {
                    let key_at = self.pos;
                    if !self.peek()?.is_ascii_digit() {
                        return Err(self.err(DecodeErrorKind::KeyNotString));
                    }
                    let key = self.bytes()?;
                    let value = self.value(depth + 1)?;
                    if entries.insert(key, value).is_some() {
                        return Err(DecodeError { kind: DecodeErrorKind::DuplicateKey, offset: key_at });
                    }
                }
                self.pos += 1;
                Ok(Value::Dict(entries))
            }
            b => Err(self.err(DecodeErrorKind::UnexpectedByte(b))),
        }
    }

    /// Digits up to `end`, after the `i` (sign allowed) or at a string length.
    fn digits(&mut self, end: u8, signed: bool) -> Result<i64, DecodeError> {
        let start = self.pos;
        let negative = signed && self.peek()? == b'-';
        if negative {
            self.pos += 1;
        }
        let first = self.pos;
        let mut n: i64 = 0;
        loop {
            let b = self.peek()?;
            if b == end {
                break;
            }
            if !b.is_ascii_digit() {
                return Err(self.err(DecodeErrorKind::UnexpectedByte(b)));
            }
            if self.pos > first && self.input[first] == b'0' {
                return Err(DecodeError { kind: DecodeErrorKind::LeadingZero, offset: first });
            }
            let digit = i64::from(b - b'0');
            n = n
                .checked_mul(10)
                .and_then(|n| if negative { n.checked_sub(digit) } else { n.checked_add(digit) })
                .ok_or_else(|| self.err(DecodeErrorKind::Overflow))?;
            self.pos += 1;
        }
        if self.pos == first {
            return Err(self.err(DecodeErrorKind::EmptyInteger));
        }
        if negative && n == 0 {
            return Err(DecodeError { kind: DecodeErrorKind::NegativeZero, offset: start });
        }
        self.pos += 1; // the end byte
        Ok(n)
    }

    fn int(&mut self) -> Result<i64, DecodeError> {
        self.digits(b'e', true)
    }

    fn bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        let len_at = self.pos;
        let len = self.digits(b':', false)?;
        let len = usize::try_from(len)
            .map_err(|_| DecodeError { kind: DecodeErrorKind::Overflow, offset: len_at })?;
        let end = self
            .pos
            .checked_add(len)
            .filter(|&end| end <= self.input.len())
            .ok_or(DecodeError { kind: DecodeErrorKind::StringPastEnd { len }, offset: len_at })?;
        let b = self.input[self.pos..end].to_vec();
        self.pos = end;
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(input: &[u8]) -> (DecodeErrorKind, usize) {
        let e = decode(input).expect_err(&String::from_utf8_lossy(input));
        (e.kind, e.offset)
    }

    #[test]
    fn round_trips() {
        let v = dict([
            ("command", "offer".into()),
            ("flags", list(["trust-address", "generate mid"])),
            ("n", Value::Int(-42)),
            ("zero", Value::Int(0)),
            ("max", Value::Int(i64::MAX)),
            ("min", Value::Int(i64::MIN)),
            ("empty", "".into()),
            ("bin", Value::Bytes(vec![0, 255, b' ', b'e'])),
            ("nested", dict([("l", Value::List(vec![Value::List(vec![]), dict([])]))])),
        ]);
        let bytes = encode(&v);
        assert_eq!(decode(&bytes).unwrap(), v);
        assert_eq!(encode(&decode(&bytes).unwrap()), bytes);
    }

    #[test]
    fn canonical_form() {
        let v = dict([("b", 1.into()), ("a", list(["x", "yz"]))]);
        assert_eq!(encode(&v), b"d1:al1:x2:yze1:bi1ee");
        assert_eq!(encode(&Value::Int(-7)), b"i-7e");
        assert_eq!(v.get_list("a").unwrap().len(), 2);
        assert_eq!(v.get_int("b"), Some(1));
        assert_eq!(v.get_str("b"), None);
        assert_eq!(list(["x"]).get("a"), None);
    }

    #[test]
    fn accepts_unsorted_keys() {
        // rtpengine writes keys in insertion order.
        let v = decode(b"d6:result4:pong3:abci1ee").unwrap();
        assert_eq!(v.get_str("result"), Some("pong"));
        assert_eq!(v.get_int("abc"), Some(1));
    }

    #[test]
    fn display_is_json_like() {
        let v = dict([("a", list(["x"])), ("b", 2.into())]);
        assert_eq!(v.to_string(), r#"{"a": ["x"], "b": 2}"#);
    }

    #[test]
    fn malformed() {
        use DecodeErrorKind::*;
        assert_eq!(err(b""), (UnexpectedEnd, 0));
        assert_eq!(err(b"i"), (UnexpectedEnd, 1));
        assert_eq!(err(b"i12"), (UnexpectedEnd, 3));
        assert_eq!(err(b"ie"), (EmptyInteger, 1));
        assert_eq!(err(b"i-e"), (EmptyInteger, 2));
        assert_eq!(err(b"i03e"), (LeadingZero, 1));
        assert_eq!(err(b"i-03e"), (LeadingZero, 2));
        assert_eq!(err(b"i-0e"), (NegativeZero, 1));
        assert_eq!(err(b"i1x2e"), (UnexpectedByte(b'x'), 2));
        assert_eq!(err(b"i+1e"), (UnexpectedByte(b'+'), 1));
        assert_eq!(err(b"i9223372036854775808e"), (Overflow, 19));
        assert!(decode(b"i-9223372036854775808e").is_ok());
        assert_eq!(err(b"i1ee"), (TrailingBytes, 3));
        assert_eq!(err(b"4:abc"), (StringPastEnd { len: 4 }, 0));
        assert_eq!(err(b"99999999999999999999:a"), (Overflow, 18));
        assert_eq!(err(b"03:abc"), (LeadingZero, 0));
        assert_eq!(err(b"3abc"), (UnexpectedByte(b'a'), 1));
        assert_eq!(err(b"-3:abc"), (UnexpectedByte(b'-'), 0));
        assert_eq!(err(b"l"), (UnexpectedEnd, 1));
        assert_eq!(err(b"li1e"), (UnexpectedEnd, 4));
        assert_eq!(err(b"d"), (UnexpectedEnd, 1));
        assert_eq!(err(b"d1:a"), (UnexpectedEnd, 4));
        assert_eq!(err(b"di1ei2ee"), (KeyNotString, 1));
        assert_eq!(err(b"d1:ai1e1:ai2ee"), (DuplicateKey, 7));
        assert_eq!(err(b"x"), (UnexpectedByte(b'x'), 0));
        assert_eq!(err(b"e"), (UnexpectedByte(b'e'), 0));
        let e = decode(b"i-0e").unwrap_err();
        assert_eq!(e.to_string(), "bencode from the peer: integer -0 at byte 1");
    }

    #[test]
    fn limits() {
        let ok = [b"l".repeat(MAX_DEPTH), b"e".repeat(MAX_DEPTH)].concat();
        assert!(decode(&ok).is_ok());
        let deep = [b"l".repeat(MAX_DEPTH + 1), b"e".repeat(MAX_DEPTH + 1)].concat();
        assert_eq!(err(&deep), (DecodeErrorKind::TooDeep, MAX_DEPTH));
        let huge = vec![b'l'; MAX_INPUT + 1];
        assert_eq!(err(&huge), (DecodeErrorKind::TooLarge { len: MAX_INPUT + 1 }, 0));
        // A million nested lists do not overflow the stack.
        let bomb = vec![b'l'; MAX_INPUT];
        assert_eq!(err(&bomb).0, DecodeErrorKind::TooDeep);
    }

    #[test]
    fn every_prefix_and_byte_flip_is_handled() {
        let v = dict([("command", "offer".into()), ("x", list(["a", "bc"])), ("i", Value::Int(-12))]);
        let bytes = encode(&v);
        for n in 0..bytes.len() {
            assert!(decode(&bytes[..n]).is_err());
            for b in [0u8, b'e', b'i', b'l', b'd', b'0', b'9', b':', b'-', 0xff] {
                let mut m = bytes.clone();
                m[n] = b;
                if let Ok(v) = decode(&m) {
                    assert_eq!(decode(&encode(&v)).unwrap(), v);
                }
            }
        }
    }
}
