//! What the center's Java SDK does with strings and numbers, in Rust: `String.compareTo`,
//! `String.CASE_INSENSITIVE_ORDER`, `String.trim`, and `BigDecimal.toString()` of a JSON
//! number literal (docs/protocol.md, "Numbers" and "Key order").

use std::borrow::Cow;
use std::cmp::Ordering;

/// Java's `String.compareTo`: UTF-16 code units compared as numbers. This is byte order
/// except where a character at or above U+E000 meets one above U+FFFF (a surrogate pair
/// sorts below U+E000..U+FFFF in UTF-16 but above it in UTF-8).
///
/// ```
/// use medpay_core::sign_text::java::compare_ordinal;
/// use std::cmp::Ordering;
/// assert_eq!(compare_ordinal("B", "a"), Ordering::Less);
/// assert_eq!(compare_ordinal("\u{FFFD}", "😀"), Ordering::Greater);
/// ```
pub fn compare_ordinal(a: &str, b: &str) -> Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let Some(at) = x.iter().zip(y).position(|(p, q)| p != q) else { return x.len().cmp(&y.len()) };
    // Lead bytes 0xEE and up start U+E000..U+FFFF (0xEE, 0xEF) or a 4-byte sequence: only
    // there do UTF-8 and UTF-16 orders part.
    if x[at] < 0xEE || y[at] < 0xEE {
        return x[at].cmp(&y[at]);
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Java's simple case mapping of one UTF-16 unit (`Character.toUpperCase(char)` and then
/// `toLowerCase`); a character whose mapping is more than one character maps to itself,
/// as Java's single-`char` methods do.
fn fold_unit(u: u16) -> u16 {
    fn single(mut mapped: impl Iterator<Item = char>, c: char) -> char {
        match (mapped.next(), mapped.next()) {
            (Some(m), None) => m,
            _ => c,
        }
    }
    let Some(c) = char::from_u32(u as u32) else { return u };
    let upper = single(c.to_uppercase(), c);
    let lower = single(upper.to_lowercase(), upper);
    if (lower as u32) < 0x10000 {
        lower as u16
    } else {
        u
    }
}

/// Java's `String.CASE_INSENSITIVE_ORDER`: unit by unit, equal when equal after upper-
/// and then lower-casing. Keys equal in this order are then ordered ordinally, so that the
/// result never depends on the input's order.
///
/// ```
/// use medpay_core::sign_text::java::compare_case_insensitive;
/// use std::cmp::Ordering;
/// assert_eq!(compare_case_insensitive("feedetailList", "feeType"), Ordering::Less);
/// assert_eq!(compare_case_insensitive("a1=x&", "a=x&"), Ordering::Less);
/// ```
pub fn compare_case_insensitive(a: &str, b: &str) -> Ordering {
    match compare_folded(a.encode_utf16(), b.encode_utf16()) {
        Folded::Differ(o) => o,
        Folded::Prefix(o) => o,
        Folded::Equal => compare_ordinal(a, b),
    }
}

/// How two UTF-16 sequences compare in Java's case-insensitive order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Folded {
    /// They differ at a unit (ignoring case).
    Differ(Ordering),
    /// One is a prefix of the other (ignoring case): the shorter sorts first.
    Prefix(Ordering),
    /// They are equal ignoring case.
    Equal,
}

pub(crate) fn compare_folded(mut x: impl Iterator<Item = u16>, mut y: impl Iterator<Item = u16>) -> Folded {
    loop {
        match (x.next(), y.next()) {
            (None, None) => return Folded::Equal,
            (None, Some(_)) => return Folded::Prefix(Ordering::Less),
            (Some(_), None) => return Folded::Prefix(Ordering::Greater),
            (Some(p), Some(q)) if p == q => {}
            (Some(p), Some(q)) => {
                // ASCII first: nearly every key is.
                let (fp, fq) = if p < 0x80 && q < 0x80 {
                    ((p as u8).to_ascii_lowercase() as u16, (q as u8).to_ascii_lowercase() as u16)
                } else {
                    (fold_unit(p), fold_unit(q))
                };
                if fp != fq {
                    return Folded::Differ(fp.cmp(&fq));
                }
            }
        }
    }
}

/// Java's `String.trim()` is empty: every character is at or below U+0020.
pub fn is_blank(s: &str) -> bool {
    s.bytes().all(|b| b <= b' ')
}

/// How the SDK writes a JSON number it parsed: integers as written (but `-0`, an int, is
/// `0`); any literal with a fraction or exponent through `BigDecimal(literal).toString()`:
/// trailing zeros kept, exponent form where Java uses it, no negative zero.
///
/// `lit` must be a JSON number literal ([`crate::json::is_number_literal`]).
///
/// ```
/// use medpay_core::sign_text::java::decimal_text;
/// assert_eq!(decimal_text("1.50"), "1.50");
/// assert_eq!(decimal_text("1e2"), "1E+2");
/// assert_eq!(decimal_text("0.0000001"), "1E-7");
/// assert_eq!(decimal_text("-0.00"), "0.00");
/// ```
pub fn decimal_text(lit: &str) -> Cow<'_, str> {
    let b = lit.as_bytes();
    // Nearly every amount: positive, a first digit not 0, no exponent: as written.
    if matches!(b.first(), Some(b'1'..=b'9')) && !b.iter().any(|&c| c | 0x20 == b'e') {
        return Cow::Borrowed(lit);
    }
    let negative = b.first() == Some(&b'-');
    let body = &lit[negative as usize..];
    let exp_at = body.find(['e', 'E']);
    let (mantissa, exp) = match exp_at {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    let zero = int.bytes().chain(frac.bytes()).all(|d| d == b'0');
    if exp.is_none() {
        // The common case: the literal is already BigDecimal's text, unless it is a
        // negative zero or has more than six zeros after the point before its first
        // digit (0.0000001 is 1E-7; the zero 0.0000000 is 0E-7).
        let leading = frac.bytes().take_while(|&d| d == b'0').count();
        let plain = int != "0" || if zero { frac.len() <= 6 } else { leading <= 5 };
        if plain {
            return if negative && zero { Cow::Owned(body.to_owned()) } else { Cow::Borrowed(lit) };
        }
    }
    let exp = exp.unwrap_or("0");
    // The exponent may be huge ("1e999999999"): BigDecimal refuses a scale beyond 32 bits,
    // and so would the SDK; keep such a literal as written rather than build its text.
    let Ok(exp) = exp.trim_start_matches('+').parse::<i64>() else { return Cow::Borrowed(lit) };
    if exp.unsigned_abs() > i32::MAX as u64 {
        return Cow::Borrowed(lit);
    }
    let digits: String = int.chars().chain(frac.chars()).collect();
    let coeff = digits.trim_start_matches('0');
    let coeff = if coeff.is_empty() { "0" } else { coeff };
    let scale = frac.len() as i64 - exp;
    let mut out = String::with_capacity(coeff.len() + 16);
    if negative && !zero {
        out.push('-');
    }
    if scale == 0 {
        out.push_str(coeff);
        return Cow::Owned(out);
    }
    let adjusted = -scale + (coeff.len() as i64 - 1);
    if scale > 0 && adjusted >= -6 {
        let pad = scale - coeff.len() as i64;
        if pad >= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', pad as usize));
            out.push_str(coeff);
        } else {
            let point = (coeff.len() as i64 - scale) as usize;
            out.push_str(&coeff[..point]);
            out.push('.');
            out.push_str(&coeff[point..]);
        }
    } else {
        out.push_str(&coeff[..1]);
        if coeff.len() > 1 {
            out.push('.');
            out.push_str(&coeff[1..]);
        }
        if adjusted != 0 {
            out.push('E');
            if adjusted > 0 {
                out.push('+');
            }
            out.push_str(&adjusted.to_string());
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Java's own outputs (`new BigDecimal(s).toString()`, and fastjson's Integer/Long/
    /// BigInteger for integer literals), as the JDK documents and prints them.
    #[test]
    fn decimal_text_is_java_big_decimal_to_string() {
        let cases = [
            ("0", "0"),
            ("-0", "0"),
            ("7", "7"),
            ("-12", "-12"),
            ("12345678901234567890123", "12345678901234567890123"),
            ("1.50", "1.50"),
            ("100.00", "100.00"),
            ("-0.00", "0.00"),
            ("-0.0", "0.0"),
            ("0.000001", "0.000001"),
            ("0.0000010", "0.0000010"),
            ("0.00000000", "0E-8"),
            ("-0.0000000", "0E-7"),
            ("0.000000", "0.000000"),
            ("10.0000000001", "10.0000000001"),
            ("0.0000001", "1E-7"),
            ("0.00000010", "1.0E-7"),
            ("1e2", "1E+2"),
            ("1E+2", "1E+2"),
            ("1.5e3", "1.5E+3"),
            ("-1.50e3", "-1.50E+3"),
            ("123e-2", "1.23"),
            ("100e-2", "1.00"),
            ("1e-7", "1E-7"),
            ("1e0", "1"),
            ("12e0", "12"),
            ("0e5", "0E+5"),
            ("0e-2", "0.00"),
            ("-0e0", "0"),
            ("0.00e1", "0.0"),
            ("5e-1", "0.5"),
            ("1.23e1", "12.3"),
            ("1.23e5", "1.23E+5"),
        ];
        for (lit, java) in cases {
            assert_eq!(decimal_text(lit), java, "{lit}");
        }
        // Beyond BigDecimal's scale the literal is kept, without building a huge text.
        assert_eq!(decimal_text("1e999999999999"), "1e999999999999");
    }

    #[test]
    fn ordinal_is_utf16_code_unit_order() {
        assert_eq!(compare_ordinal("a", "ab"), Ordering::Less);
        assert_eq!(compare_ordinal("Z", "_"), Ordering::Less);
        assert_eq!(compare_ordinal("_", "a"), Ordering::Less);
        assert_eq!(compare_ordinal("张", "李"), "张".encode_utf16().cmp("李".encode_utf16()));
        // U+FF01 is one unit 0xFF01; U+1F600 is 0xD83D 0xDE00: below it in UTF-16.
        assert_eq!(compare_ordinal("\u{FF01}", "\u{1F600}"), Ordering::Greater);
        assert_eq!("\u{FF01}".cmp("\u{1F600}"), Ordering::Less);
    }

    #[test]
    fn case_insensitive_is_java_case_insensitive_order() {
        let o = compare_case_insensitive;
        assert_eq!(o("a", "B"), Ordering::Less);
        assert_eq!(o("A", "a"), Ordering::Less, "a tie under folding is broken ordinally");
        assert_eq!(o("a", "a"), Ordering::Equal);
        // '_' (0x5F) sorts below letters once they are lower-cased.
        assert_eq!(o("a_b", "aB"), Ordering::Less);
        // The pair of real 6203 fields whose order the two key orders disagree on.
        assert_eq!(o("setlInfo", "setldetail"), Ordering::Greater);
        assert_eq!(compare_ordinal("setlInfo", "setldetail"), Ordering::Less);
        // Whole entries: a key that is a prefix of another sorts after it ('=' > '1').
        assert_eq!(o("ext1=x&", "ext=y&"), Ordering::Less);
        // Non-ASCII letters fold too; ß has no single-character upper case.
        assert_eq!(o("É", "é"), Ordering::Less);
        assert_eq!(o("éb", "ÉA"), Ordering::Greater);
        assert_eq!(o("ß", "ss"), Ordering::Greater);
    }

    #[test]
    fn blank_is_java_trim_empty() {
        assert!(is_blank(""));
        assert!(is_blank(" \t\r\n\u{1}"));
        assert!(!is_blank("\u{a0}"));
        assert!(!is_blank(" x "));
    }
}
