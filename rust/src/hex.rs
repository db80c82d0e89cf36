//! Hex text, as the protocol writes it: uppercase out, either case in.

const UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Uppercase hex of `bytes`.
pub fn encode_upper(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(UPPER[(b >> 4) as usize]);
        out.push(UPPER[(b & 0x0f) as usize]);
    }
    // Only ASCII digits and letters were pushed.
    String::from_utf8(out).unwrap_or_default()
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Why a hex string could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HexError {
    /// The text has an odd number of characters.
    OddLength,
    /// A character that is not a hex digit, at this byte offset.
    InvalidChar(usize),
}

/// Decode hex in upper or lower case.
pub fn decode(text: &[u8]) -> Result<Vec<u8>, HexError> {
    if text.len() % 2 != 0 {
        return Err(HexError::OddLength);
    }
    let mut out = Vec::with_capacity(text.len() / 2);
    for (i, pair) in text.chunks_exact(2).enumerate() {
        let hi = nibble(pair[0]).ok_or(HexError::InvalidChar(2 * i))?;
        let lo = nibble(pair[1]).ok_or(HexError::InvalidChar(2 * i + 1))?;
        out.push(hi << 4 | lo);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_uppercase_and_decodes_either_case() {
        assert_eq!(encode_upper(&[0xab, 0x01, 0xff]), "AB01FF");
        assert_eq!(decode(b"ab01FF").unwrap(), vec![0xab, 0x01, 0xff]);
    }

    #[test]
    fn rejects_odd_length_and_non_hex() {
        assert_eq!(decode(b"abc"), Err(HexError::OddLength));
        assert_eq!(decode(b"0g"), Err(HexError::InvalidChar(1)));
    }
}
