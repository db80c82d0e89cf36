//! Just enough DER to read and write SM2 keys (PKCS#8, SEC1, SubjectPublicKeyInfo) and
//! DER signatures. Parsing is strict about lengths and never reads past its input.

use crate::error::{Error, Result};

/// OID id-ecPublicKey (1.2.840.10045.2.1), content bytes.
pub const OID_EC_PUBLIC_KEY: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01];
/// OID of the SM2 curve (1.2.156.10197.1.301), content bytes.
pub const OID_SM2: &[u8] = &[0x2A, 0x81, 0x1C, 0xCF, 0x55, 0x01, 0x82, 0x2D];

pub const SEQUENCE: u8 = 0x30;
pub const INTEGER: u8 = 0x02;
pub const OCTET_STRING: u8 = 0x04;
pub const BIT_STRING: u8 = 0x03;
pub const OID: u8 = 0x06;

/// A reader over DER bytes.
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The next element's tag, without consuming it.
    pub fn peek_tag(&self) -> Option<u8> {
        self.buf.first().copied()
    }

    /// Read one element; returns (tag, content).
    pub fn any(&mut self) -> Result<(u8, &'a [u8])> {
        let bad = || Error::key("malformed DER");
        let tag = *self.buf.first().ok_or_else(bad)?;
        let first = *self.buf.get(1).ok_or_else(bad)?;
        let (len, hdr) = if first < 0x80 {
            (first as usize, 2)
        } else {
            let n = (first & 0x7f) as usize;
            if n == 0 || n > 3 {
                return Err(bad());
            }
            let bytes = self.buf.get(2..2 + n).ok_or_else(bad)?;
            if bytes[0] == 0 {
                return Err(bad()); // not minimal
            }
            let len = bytes.iter().fold(0usize, |acc, &b| acc << 8 | b as usize);
            if len < 0x80 {
                return Err(bad());
            }
            (len, 2 + n)
        };
        let content = self.buf.get(hdr..hdr + len).ok_or_else(bad)?;
        self.buf = &self.buf[hdr + len..];
        Ok((tag, content))
    }

    /// Read an element that must have `tag`.
    pub fn expect(&mut self, tag: u8, what: &str) -> Result<&'a [u8]> {
        match self.any()? {
            (t, c) if t == tag => Ok(c),
            _ => Err(Error::key(format!("malformed DER: expected {what}"))),
        }
    }

    /// Read a non-negative INTEGER as big-endian magnitude without leading zeros.
    pub fn unsigned(&mut self) -> Result<&'a [u8]> {
        let c = self.expect(INTEGER, "an INTEGER")?;
        match c {
            [] => Err(Error::key("malformed DER: empty INTEGER")),
            [b, ..] if b & 0x80 != 0 => Err(Error::key("malformed DER: negative INTEGER")),
            [0, b, ..] if b & 0x80 == 0 => Err(Error::key("malformed DER: non-minimal INTEGER")),
            [0, rest @ ..] if !rest.is_empty() => Ok(rest),
            _ => Ok(c),
        }
    }
}

/// Append a TLV.
pub fn push(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend_from_slice(&[0x81, n as u8]);
    } else {
        out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(content);
}

/// Append an unsigned big-endian integer as a DER INTEGER.
pub fn push_unsigned(out: &mut Vec<u8>, be: &[u8]) {
    let mut v = be;
    while v.len() > 1 && v[0] == 0 {
        v = &v[1..];
    }
    let mut c = Vec::with_capacity(v.len() + 1);
    if v.first().is_some_and(|b| b & 0x80 != 0) {
        c.push(0);
    }
    c.extend_from_slice(v);
    push(out, INTEGER, &c);
}

/// Content of `SEQUENCE { id-ecPublicKey, sm2 }`.
pub fn sm2_algorithm() -> Vec<u8> {
    let mut alg = Vec::new();
    push(&mut alg, OID, OID_EC_PUBLIC_KEY);
    push(&mut alg, OID, OID_SM2);
    alg
}

/// Check an AlgorithmIdentifier names an SM2 key: `{id-ecPublicKey, sm2}` (OpenSSL,
/// Java) or `{sm2}` alone (some older GmSSL output).
pub fn check_sm2_algorithm(alg: &[u8]) -> Result<()> {
    let mut r = Reader::new(alg);
    let first = r.expect(OID, "an algorithm OID")?;
    if first == OID_SM2 {
        return Ok(());
    }
    if first != OID_EC_PUBLIC_KEY {
        return Err(Error::key("not an elliptic-curve key"));
    }
    match r.any() {
        Ok((OID, c)) if c == OID_SM2 => Ok(()),
        Ok((OID, _)) => Err(Error::key("an elliptic-curve key on another curve, not SM2")),
        _ => Err(Error::key("elliptic-curve key without a named curve; SM2 is required")),
    }
}

/// Decode PEM: the DER of the first block whose label is one of `labels`.
pub fn pem_decode(text: &str, labels: &[&str]) -> Result<(String, Vec<u8>)> {
    use base64::Engine as _;
    if text.contains("ENCRYPTED") || text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(Error::key("encrypted PEM keys are not supported; decrypt the key first"));
    }
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let end_label = after.find("-----").ok_or_else(|| Error::key("malformed PEM header"))?;
        let label = &after[..end_label];
        let body_start = &after[end_label + 5..];
        let footer = format!("-----END {label}-----");
        let body_end = body_start.find(&footer).ok_or_else(|| Error::key("PEM block without its END line"))?;
        if labels.contains(&label) {
            let b64: String = body_start[..body_end].chars().filter(|c| !c.is_whitespace()).collect();
            let der = base64::engine::general_purpose::STANDARD
                .decode(b64.as_bytes())
                .map_err(|_| Error::key("PEM body is not valid Base64"))?;
            return Ok((label.to_string(), der));
        }
        rest = &body_start[body_end + footer.len()..];
    }
    Err(Error::key(format!("no PEM block labelled {}", labels.join(" or "))))
}

/// Encode DER as PEM with `label`.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_rejects_truncated_and_non_minimal_lengths() {
        assert!(Reader::new(&[0x30, 0x05, 0x02]).any().is_err());
        assert!(Reader::new(&[0x30, 0x81, 0x05, 0, 0, 0, 0, 0]).any().is_err());
        assert!(Reader::new(&[0x30]).any().is_err());
        assert!(Reader::new(&[0x02, 0x02, 0x00, 0x01]).unsigned().is_err());
        assert!(Reader::new(&[0x02, 0x01, 0x80]).unsigned().is_err());
    }

    #[test]
    fn integers_round_trip() {
        for v in [&[0x01u8][..], &[0x80], &[0x00, 0x00, 0x7f], &[0xff; 32]] {
            let mut out = Vec::new();
            push_unsigned(&mut out, v);
            let got = Reader::new(&out).unsigned().unwrap().to_vec();
            let want: Vec<u8> = v.iter().copied().skip_while(|&b| b == 0).collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn pem_picks_the_labelled_block() {
        let pem = format!("{}{}", pem_encode("EC PARAMETERS", &[6, 0]), pem_encode("EC PRIVATE KEY", &[1, 2, 3]));
        let (label, der) = pem_decode(&pem, &["EC PRIVATE KEY", "PRIVATE KEY"]).unwrap();
        assert_eq!((label.as_str(), der), ("EC PRIVATE KEY", vec![1, 2, 3]));
        assert!(pem_decode("-----BEGIN ENCRYPTED PRIVATE KEY-----", &["PRIVATE KEY"]).is_err());
    }
}
