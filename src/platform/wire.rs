//! The wire format between the page's JavaScript and the module: values
//! with a one-byte tag, in linear memory.
//!
//! | tag | value |
//! | --- | --- |
//! | 0 | `null` / `undefined` |
//! | 1, 2 | `false`, `true` |
//! | 3 | a number: 8 bytes, little-endian `f64` |
//! | 4 | a string: its UTF-8 length as a varint, then the bytes |
//! | 5 | an array: its length as a varint, then the items |
//! | 6 | an object: its size as a varint, then (key length, key bytes, value) each |
//! | 7 | a `RegExp` of the options: its index as a varint |
//! | 8 | anything else: its `typeof` as a string's bytes |
//! | 9 | a whole number from 0 to 2^32 - 1 as a varint |
//! | 10 | bytes in the module's memory (outgoing only): pointer, length as varints |
//!
//! Observations come in as arrays whose first item is their kind; commands
//! go out the same way. One encoder and one decoder on each side, so the
//! boundary costs a few hundred bytes of JavaScript rather than a shim per
//! call.

use alloc::string::String;
use alloc::vec::Vec;

use crate::core::config::ConfigValue;

/// A tag.
pub mod tag {
    /// `null` or `undefined`.
    pub const NULL: u8 = 0;
    /// `false`.
    pub const FALSE: u8 = 1;
    /// `true`.
    pub const TRUE: u8 = 2;
    /// A number.
    pub const F64: u8 = 3;
    /// A string.
    pub const STR: u8 = 4;
    /// An array.
    pub const ARR: u8 = 5;
    /// An object.
    pub const OBJ: u8 = 6;
    /// A `RegExp` by index.
    pub const REGEX: u8 = 7;
    /// Another type, by name.
    pub const OTHER: u8 = 8;
    /// A small whole number.
    pub const UINT: u8 = 9;
    /// Bytes in the module's memory.
    pub const BYTES: u8 = 10;
}

/// Reads values from a buffer. Malformed input never panics: a read past
/// the end gives empty values.
///
/// ```
/// use waggle_rum::platform::wire::{Reader, Writer};
/// let mut w = Writer::default();
/// w.arr(3);
/// w.uint(7);
/// w.str("héllo");
/// w.num(1.5);
/// let bytes = w.into_bytes();
/// let mut r = Reader::new(&bytes);
/// let mut rec = r.record().unwrap();
/// assert_eq!(rec.kind, 7);
/// assert_eq!((rec.str(), rec.num()), ("héllo", 1.5));
/// ```
pub struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    /// Reads `b` from its start.
    pub fn new(b: &'a [u8]) -> Self {
        Reader { b, i: 0 }
    }

    /// Whether everything was read.
    pub fn done(&self) -> bool {
        self.i >= self.b.len()
    }

    fn byte(&mut self) -> u8 {
        let v = self.b.get(self.i).copied().unwrap_or(0);
        self.i += 1;
        v
    }

    fn varint(&mut self) -> u64 {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte();
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
        }
        v
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let start = self.i.min(self.b.len());
        let end = self.i.saturating_add(n).min(self.b.len());
        self.i = self.i.saturating_add(n);
        &self.b[start..end]
    }

    fn text(&mut self) -> &'a str {
        let n = self.varint() as usize;
        core::str::from_utf8(self.bytes(n)).unwrap_or("")
    }

    /// Skips one whole value.
    pub fn skip(&mut self) {
        match self.byte() {
            tag::F64 => self.i += 8,
            tag::STR | tag::OTHER => {
                let n = self.varint() as usize;
                self.i = self.i.saturating_add(n);
            }
            tag::ARR => {
                for _ in 0..self.varint().min(self.b.len() as u64) {
                    self.skip();
                }
            }
            tag::OBJ => {
                for _ in 0..self.varint().min(self.b.len() as u64) {
                    let n = self.varint() as usize;
                    self.i = self.i.saturating_add(n);
                    self.skip();
                }
            }
            tag::REGEX | tag::UINT => {
                self.varint();
            }
            tag::BYTES => {
                self.varint();
                self.varint();
            }
            _ => {}
        }
    }

    fn peek(&self) -> u8 {
        self.b.get(self.i).copied().unwrap_or(tag::NULL)
    }

    /// The next record: an array whose first item is its kind.
    pub fn record(&mut self) -> Option<Rec<'_, 'a>> {
        while !self.done() {
            if self.peek() != tag::ARR {
                self.skip();
                continue;
            }
            self.i += 1;
            let n = self.varint() as usize;
            let mut rec = Rec { r: self, left: n, kind: 0 };
            rec.kind = rec.u32();
            return Some(rec);
        }
        None
    }

    /// A whole value as a tree, for options and attribute objects.
    pub fn tree(&mut self, depth: u32) -> ConfigValue {
        if matches!(self.peek(), tag::F64 | tag::UINT) {
            return ConfigValue::Number(self.num());
        }
        match self.byte() {
            tag::FALSE => ConfigValue::Bool(false),
            tag::TRUE => ConfigValue::Bool(true),
            tag::STR => ConfigValue::Str(String::from(self.text())),
            tag::OTHER => ConfigValue::Other(String::from(self.text())),
            tag::REGEX => ConfigValue::Regex(self.varint() as u32),
            tag::ARR => {
                let n = self.varint() as usize;
                let mut items = Vec::new();
                for _ in 0..n.min(self.b.len()) {
                    items.push(if depth > 8 { self.skip_as_other() } else { self.tree(depth + 1) });
                }
                ConfigValue::Array(items)
            }
            tag::OBJ => {
                let n = self.varint() as usize;
                let mut entries = Vec::new();
                for _ in 0..n.min(self.b.len()) {
                    let key = String::from(self.text());
                    let v = if depth > 8 { self.skip_as_other() } else { self.tree(depth + 1) };
                    entries.push((key, v));
                }
                ConfigValue::Object(entries)
            }
            tag::NULL => ConfigValue::Null,
            _ => ConfigValue::Undefined,
        }
    }

    fn skip_as_other(&mut self) -> ConfigValue {
        self.skip();
        ConfigValue::Other(String::from("deeply nested value"))
    }

    fn num(&mut self) -> f64 {
        match self.peek() {
            tag::F64 => {
                self.i += 1;
                let s = self.bytes(8);
                let mut a = [0u8; 8];
                if s.len() == 8 {
                    a.copy_from_slice(s);
                    f64::from_le_bytes(a)
                } else {
                    f64::NAN
                }
            }
            tag::UINT => {
                self.i += 1;
                self.varint() as f64
            }
            _ => {
                self.skip();
                f64::NAN
            }
        }
    }
}

/// One record's fields, read in order; a missing or mistyped field reads
/// as empty (`""`, `NaN`, `false`, `None`), and the fields not read are
/// skipped when it is dropped.
pub struct Rec<'r, 'a> {
    r: &'r mut Reader<'a>,
    left: usize,
    /// The record's kind, its first item.
    pub kind: u32,
}

impl<'a> Rec<'_, 'a> {
    fn take(&mut self) -> bool {
        if self.left == 0 {
            return false;
        }
        self.left -= 1;
        true
    }

    /// Fields not read yet.
    pub fn left(&self) -> usize {
        self.left
    }

    /// A number; `NaN` when missing or not a number.
    pub fn num(&mut self) -> f64 {
        if self.take() {
            self.r.num()
        } else {
            f64::NAN
        }
    }

    /// A whole number; 0 when missing, negative or not a number.
    pub fn u32(&mut self) -> u32 {
        let n = self.num();
        if n >= 0.0 && n <= f64::from(u32::MAX) {
            n as u32
        } else {
            0
        }
    }

    /// A number, or `None`.
    pub fn opt_num(&mut self) -> Option<f64> {
        let n = self.num();
        (!n.is_nan()).then_some(n)
    }

    /// A string; `""` when missing or not a string.
    pub fn str(&mut self) -> &'a str {
        self.opt_str().unwrap_or("")
    }

    /// A string, or `None`.
    pub fn opt_str(&mut self) -> Option<&'a str> {
        if !self.take() {
            return None;
        }
        if self.r.peek() == tag::STR {
            self.r.i += 1;
            Some(self.r.text())
        } else {
            self.r.skip();
            None
        }
    }

    /// A boolean; `false` when missing or not `true`.
    pub fn bool(&mut self) -> bool {
        self.opt_bool().unwrap_or(false)
    }

    /// A boolean, or `None`.
    pub fn opt_bool(&mut self) -> Option<bool> {
        if !self.take() {
            return None;
        }
        match self.r.byte() {
            tag::TRUE => Some(true),
            tag::FALSE => Some(false),
            _ => {
                self.r.i -= 1;
                self.r.skip();
                None
            }
        }
    }

    /// A nested array as a record of its own (with no kind): its fields
    /// are read the same way. An empty one when missing.
    pub fn arr(&mut self) -> Rec<'_, 'a> {
        let n = if self.take() {
            if self.r.peek() == tag::ARR {
                self.r.i += 1;
                self.r.varint() as usize
            } else {
                self.r.skip();
                0
            }
        } else {
            0
        };
        Rec { r: &mut *self.r, left: n, kind: 0 }
    }

    /// A field as a tree (options, attribute objects).
    pub fn tree(&mut self) -> ConfigValue {
        if self.take() {
            self.r.tree(0)
        } else {
            ConfigValue::Undefined
        }
    }

    /// A field as an attribute value: a string, a number, a boolean, or an
    /// array of one of those; `Err` with what it was instead.
    pub fn attr_value(&mut self) -> Result<crate::core::span::Value, ConfigValue> {
        let t = self.tree();
        match crate::core::config::attribute_value(&t) {
            Ok(v) => Ok(v),
            Err(_) => Err(t),
        }
    }

    /// Skips one field.
    pub fn skip(&mut self) {
        if self.take() {
            self.r.skip();
        }
    }
}

impl Drop for Rec<'_, '_> {
    fn drop(&mut self) {
        while self.left > 0 {
            self.left -= 1;
            self.r.skip();
        }
    }
}

/// Writes values.
#[derive(Default)]
pub struct Writer {
    b: Vec<u8>,
}

impl Writer {
    /// What was written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.b
    }

    /// What was written so far.
    pub fn bytes(&self) -> &[u8] {
        &self.b
    }

    /// Forgets what was written, keeping the buffer.
    pub fn clear(&mut self) {
        self.b.clear();
    }

    fn varint(&mut self, mut v: u64) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.b.push(byte);
                return;
            }
            self.b.push(byte | 0x80);
        }
    }

    /// An array of `n` items (write them next).
    pub fn arr(&mut self, n: usize) {
        self.b.push(tag::ARR);
        self.varint(n as u64);
    }

    /// A whole number.
    pub fn uint(&mut self, v: u32) {
        self.b.push(tag::UINT);
        self.varint(u64::from(v));
    }

    /// A number.
    pub fn num(&mut self, v: f64) {
        self.b.push(tag::F64);
        self.b.extend_from_slice(&v.to_le_bytes());
    }

    /// A string.
    pub fn str(&mut self, s: &str) {
        self.b.push(tag::STR);
        self.varint(s.len() as u64);
        self.b.extend_from_slice(s.as_bytes());
    }

    /// A string, or `null`.
    pub fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.str(s),
            None => self.null(),
        }
    }

    /// A boolean.
    pub fn bool(&mut self, v: bool) {
        self.b.push(if v { tag::TRUE } else { tag::FALSE });
    }

    /// `null`.
    pub fn null(&mut self) {
        self.b.push(tag::NULL);
    }

    /// Bytes the JS side copies out of the module's memory.
    pub fn bytes_at(&mut self, data: &[u8]) {
        self.b.push(tag::BYTES);
        self.varint(data.as_ptr() as usize as u64);
        self.varint(data.len() as u64);
    }

    /// A tree (tests write options this way).
    pub fn tree(&mut self, v: &ConfigValue) {
        match v {
            ConfigValue::Undefined | ConfigValue::Null => self.null(),
            ConfigValue::Bool(b) => self.bool(*b),
            ConfigValue::Number(n) => self.num(*n),
            ConfigValue::Str(s) => self.str(s),
            ConfigValue::Regex(i) => {
                self.b.push(tag::REGEX);
                self.varint(u64::from(*i));
            }
            ConfigValue::Array(items) => {
                self.arr(items.len());
                items.iter().for_each(|i| self.tree(i));
            }
            ConfigValue::Object(entries) => {
                self.b.push(tag::OBJ);
                self.varint(entries.len() as u64);
                for (k, v) in entries {
                    self.varint(k.len() as u64);
                    self.b.extend_from_slice(k.as_bytes());
                    self.tree(v);
                }
            }
            ConfigValue::Other(t) => {
                self.b.push(tag::OTHER);
                self.varint(t.len() as u64);
                self.b.extend_from_slice(t.as_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_what_was_written_and_tolerate_missing_and_mistyped_fields() {
        let mut w = Writer::default();
        w.arr(5);
        w.uint(3);
        w.num(-2.5);
        w.str("x");
        w.arr(2);
        w.str("inner");
        w.bool(true);
        w.null();
        w.arr(2);
        w.uint(4);
        w.str("not a number");
        let b = w.into_bytes();
        let mut r = Reader::new(&b);
        {
            let mut rec = r.record().unwrap();
            assert_eq!(rec.kind, 3);
            assert_eq!(rec.num(), -2.5);
            // Read fewer fields than there are: the rest is skipped.
            assert_eq!(rec.str(), "x");
            let mut inner = rec.arr();
            assert_eq!(inner.str(), "inner");
        }
        {
            let mut rec = r.record().unwrap();
            assert_eq!(rec.kind, 4);
            assert!(rec.num().is_nan());
            assert_eq!(rec.str(), "");
            assert!(!rec.bool());
        }
        assert!(r.record().is_none());
    }

    #[test]
    fn trees_round_trip_and_garbage_never_panics() {
        let t = ConfigValue::Object(vec![
            ("a".into(), ConfigValue::Array(vec![ConfigValue::Regex(2), ConfigValue::Number(0.5), ConfigValue::Null])),
            ("b".into(), ConfigValue::Other("function".into())),
        ]);
        let mut w = Writer::default();
        w.tree(&t);
        let b = w.into_bytes();
        assert_eq!(Reader::new(&b).tree(0), t);
        for cut in 0..b.len() {
            let _ = Reader::new(&b[..cut]).tree(0);
            let mut r = Reader::new(&b[..cut]);
            while let Some(mut rec) = r.record() {
                rec.str();
            }
        }
        let mut state = 7u64;
        for _ in 0..2000 {
            let junk: Vec<u8> = (0..64)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                    (state >> 33) as u8 % 12
                })
                .collect();
            let mut r = Reader::new(&junk);
            while let Some(mut rec) = r.record() {
                rec.num();
                rec.arr().str();
                rec.tree();
            }
        }
    }
}
