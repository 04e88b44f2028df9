//! Content keys: the blake3 digest that names every node and cache entry.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A 256-bit blake3 digest identifying a node's meaning (and its cache entry).
///
/// Invariant: two nodes have equal keys iff their canonical descriptions are byte-identical.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key([u8; 32]);

impl Key {
    /// Hashes a canonical description.
    pub(crate) fn of(canonical: &[u8]) -> Key {
        Key(*blake3::hash(canonical).as_bytes())
    }

    /// Lower-case hex of all 32 bytes.
    pub fn hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(DIGITS[usize::from(b >> 4)] as char);
            s.push(DIGITS[usize::from(b & 15)] as char);
        }
        s
    }

    /// The first 12 hex digits: enough to tell keys apart in plans and snapshots.
    pub fn short(&self) -> String {
        self.hex()[..12].to_string()
    }

    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Option<Key> {
        if s.len() != 64 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Key(out))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({})", self.short())
    }
}

impl Serialize for Key {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.hex())
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        let s = String::deserialize(d)?;
        Key::from_hex(&s).ok_or_else(|| serde::de::Error::custom("a key is 64 hex digits"))
    }
}

#[cfg(test)]
mod tests {
    use super::Key;

    #[test]
    fn hex_round_trip() {
        let k = Key::of(b"munl");
        assert_eq!(Key::from_hex(&k.hex()), Some(k));
        assert_eq!(k.short().len(), 12);
        assert_eq!(Key::from_hex("zz"), None);
    }
}
