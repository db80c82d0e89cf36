//! How the SDK's JSON library escapes a string in the canonical JSON (docs/protocol.md,
//! "String escaping"). Both forms share `\"`, `\\`, `\b`, `\t`, `\n`, `\f`, `\r`, write
//! `/` and non-ASCII raw, and differ only in a few characters:
//!
//! | character | fastjson 1.2.18+ | fastjson2 |
//! |---|---|---|
//! | other C0 controls | `\u001F` (uppercase hex) | `\u001f` (lowercase) |
//! | U+007F..U+009F | `\u007F`..`\u009F` | raw |
//! | U+2028, U+2029 | `\u2028`, `\u2029` | raw |

/// Which JSON library's string escaping the canonical JSON uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Escapes {
    /// fastjson 1.x (1.2.18 to 1.2.83), which the center's SDK imports. The default.
    #[default]
    Fastjson1,
    /// fastjson2 (and medpay before 0.2, and most other JSON writers).
    Fastjson2,
}

impl Escapes {
    /// The other form, for a verifier that accepts either.
    pub fn other(self) -> Escapes {
        match self {
            Escapes::Fastjson1 => Escapes::Fastjson2,
            Escapes::Fastjson2 => Escapes::Fastjson1,
        }
    }
}

/// Whether `s` holds a character that only fastjson 1.x escapes (U+007F..U+009F, U+2028,
/// U+2029): what a string with no `"`, `\` or control character still needs checked for.
#[inline]
pub fn has_fastjson1_extra(s: &str) -> bool {
    // U+007F is 0x7F; U+0080..U+009F are C2 80..C2 9F; U+2028/9 are E2 80 A8/A9.
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(i) = memchr::memchr3(0x7F, 0xC2, 0xE2, &b[from..]) {
        let at = from + i;
        match b[at] {
            0x7F => return true,
            0xC2 if matches!(b.get(at + 1), Some(0x80..=0x9F)) => return true,
            0xE2 if b.get(at + 1) == Some(&0x80) && matches!(b.get(at + 2), Some(0xA8 | 0xA9)) => return true,
            _ => {}
        }
        from = at + 1;
    }
    false
}

/// Append `s` as a JSON string in the given form.
///
/// ```
/// use medpay_core::sign_text::escape::{write_string, Escapes};
/// let mut out = String::new();
/// write_string(&mut out, "a\u{1f}\u{85}张", Escapes::Fastjson1);
/// assert_eq!(out, r#""a\u001F\u0085张""#);
/// ```
pub fn write_string(out: &mut String, s: &str, escapes: Escapes) {
    match escapes {
        Escapes::Fastjson2 => crate::json::write_string(out, s),
        Escapes::Fastjson1 => write_fastjson1(out, s),
    }
}

/// The bytes of `w` (8, little-endian) that may start a character fastjson 1.x escapes:
/// a control character, `"`, `\\`, 0x7F, or the lead byte 0xC2 (U+0080..U+00BF) or 0xE2
/// (U+2000..U+2FFF). Only the lowest mark is exact (SWAR, as in `json::write_string`).
#[inline(always)]
fn fastjson1_mask(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let common = crate::json::escape_mask(w);
    // Bytes from 0x7F up: none in an ASCII word, which then needs no more checks.
    if ((w & !HIGH).wrapping_add(ONES) | w) & HIGH == 0 {
        return common;
    }
    let eq = |x: u64, c: u8| {
        let x = x ^ (ONES * c as u64);
        x.wrapping_sub(ONES) & !x
    };
    // 0xC2 and 0xE2 are the bytes equal to 0xC2 once bit 5 is cleared.
    common | ((eq(w, 0x7F) | eq(w & !(ONES * 0x20), 0xC2)) & HIGH)
}

fn write_fastjson1(out: &mut String, s: &str) {
    use crate::json::{short_escape, write_escaped, Escape};
    write_escaped(out, s, fastjson1_mask, |b, i| {
        if let Some(e) = short_escape(b[i]) {
            return Some((Escape::Short(e), 1));
        }
        let (code, len) = match b[i] {
            c @ (0..=0x1F | 0x7F) => (c as u32, 1),
            // U+0080..U+009F
            0xC2 if matches!(b.get(i + 1), Some(0x80..=0x9F)) => (b[i + 1] as u32, 2),
            // U+2028, U+2029
            0xE2 if b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0xA8 | 0xA9)) => {
                (0x2000 | (b[i + 2] as u32 - 0x80), 3)
            }
            _ => return None,
        };
        Some((Escape::Unicode { code, upper: true }, len))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(s: &str, e: Escapes) -> String {
        let mut out = String::new();
        write_string(&mut out, s, e);
        out
    }

    /// fastjson 1.2.83 `SerializeWriter.writeStringWithDoubleQuote` and fastjson2 2.0.x
    /// `JSONWriterUTF16.writeString`, character by character (docs/protocol.md).
    #[test]
    fn each_character_is_escaped_as_its_library_does() {
        let cases: &[(&str, &str, &str)] = &[
            ("\"", r#"\""#, r#"\""#),
            ("\\", r#"\\"#, r#"\\"#),
            ("/", "/", "/"),
            ("\u{8}\t\n\u{c}\r", r#"\b\t\n\f\r"#, r#"\b\t\n\f\r"#),
            ("\u{0}", r#"\u0000"#, r#"\u0000"#),
            ("\u{b}", r#"\u000B"#, r#"\u000b"#),
            ("\u{1f}", r#"\u001F"#, r#"\u001f"#),
            ("\u{7f}", r#"\u007F"#, "\u{7f}"),
            ("\u{85}", r#"\u0085"#, "\u{85}"),
            ("\u{9f}", r#"\u009F"#, "\u{9f}"),
            ("\u{a0}", "\u{a0}", "\u{a0}"),
            ("\u{2028}\u{2029}", r#"\u2028\u2029"#, "\u{2028}\u{2029}"),
            ("\u{2027}\u{202a}", "\u{2027}\u{202a}", "\u{2027}\u{202a}"),
            ("张三“引号”", "张三“引号”", "张三“引号”"),
            ("😀", "😀", "😀"),
        ];
        for (s, one, two) in cases {
            assert_eq!(written(s, Escapes::Fastjson1), format!("\"{one}\""), "{s:?}");
            assert_eq!(written(s, Escapes::Fastjson2), format!("\"{two}\""), "{s:?}");
        }
    }

    #[test]
    fn word_and_byte_paths_agree_at_every_position() {
        // Each special character at every offset of a string longer than a word, so that
        // it is found by the 8-byte scan and by the byte-by-byte tail alike.
        let specials = [
            "\"", "\\", "\n", "\u{1}", "\u{1a}", "\u{7f}", "\u{80}", "\u{9f}", "\u{a0}", "\u{2028}", "\u{2029}",
            "\u{2030}", "张",
        ];
        for sp in specials {
            for at in 0..20 {
                let s: String = "x".repeat(at) + sp + &"y".repeat(19 - at);
                let expected: String = s
                    .chars()
                    .map(|c| match c {
                        '"' => "\\\"".to_string(),
                        '\\' => "\\\\".to_string(),
                        '\n' => "\\n".to_string(),
                        c if (c as u32) < 0x20
                            || (0x7f..=0x9f).contains(&(c as u32))
                            || c == '\u{2028}'
                            || c == '\u{2029}' =>
                        {
                            format!("\\u{:04X}", c as u32)
                        }
                        c => c.to_string(),
                    })
                    .collect();
                assert_eq!(written(&s, Escapes::Fastjson1), format!("\"{expected}\""), "{s:?}");
            }
        }
    }

    #[test]
    fn extra_characters_are_found_anywhere() {
        assert!(!has_fastjson1_extra("plain 张三 \u{a0} \u{2027} \u{c2a0}"));
        for s in ["\u{7f}", "x\u{80}", "長い\u{9f}", "\u{2028}", "ab\u{2029}cd"] {
            assert!(has_fastjson1_extra(s), "{s:?}");
        }
    }
}
