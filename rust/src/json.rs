//! JSON as the protocol needs it: numbers kept as their literals (`100.00` stays `100.00`),
//! object members in the order they came, duplicate keys refused, and size and depth
//! bounded so hostile input cannot exhaust memory or the stack.
//!
//! We parse with our own small parser rather than serde_json because we need all four
//! properties in one pass; serde_json (with `arbitrary_precision`) is the oracle the tests
//! compare this parser against.

use std::fmt::Write as _;

/// A JSON value. Numbers hold their literal text, validated against the JSON grammar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, as its literal.
    Number(String),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object, members in document order, keys unique.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// A short name of the JSON type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
}

/// Bounds on what the parser accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest input, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting of arrays and objects.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bytes: 8 * 1024 * 1024, max_depth: 64 }
    }
}

/// Why a text is not acceptable JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    /// Not JSON; with the byte offset and what was expected.
    Syntax { offset: usize, what: String },
    /// The same key twice in one object.
    DuplicateKey(String),
    /// Nested deeper than the limit.
    TooDeep(usize),
    /// Longer than the limit.
    TooLarge { size: usize, limit: usize },
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JsonError::Syntax { offset, what } => write!(f, "invalid JSON at byte {offset}: {what}"),
            JsonError::DuplicateKey(k) => write!(f, "duplicate JSON key {k:?}"),
            JsonError::TooDeep(d) => write!(f, "JSON nested deeper than {d} levels"),
            JsonError::TooLarge { size, limit } => {
                write!(f, "JSON of {size} bytes is over the limit of {limit} bytes")
            }
        }
    }
}

/// Parse one JSON text (surrounding white space allowed).
///
/// ```
/// use medpay_core::json::{parse, Limits, Value};
/// let v = parse(br#"{"a":100.00}"#, Limits::default()).unwrap();
/// assert_eq!(v.get("a"), Some(&Value::Number("100.00".into())));
/// ```
pub fn parse(text: &[u8], limits: Limits) -> Result<Value, JsonError> {
    if text.len() > limits.max_bytes {
        return Err(JsonError::TooLarge { size: text.len(), limit: limits.max_bytes });
    }
    if let Err(e) = std::str::from_utf8(text) {
        return Err(JsonError::Syntax { offset: e.valid_up_to(), what: "invalid UTF-8".into() });
    }
    let mut p = Parser { s: text, i: 0, max_depth: limits.max_depth };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(p.err("end of input after the JSON value"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    max_depth: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, what: &str) -> JsonError {
        JsonError::Syntax { offset: self.i, what: format!("expected {what}") }
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    fn lit(&mut self, word: &[u8], v: Value) -> Result<Value, JsonError> {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(self.err("a JSON value"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        match self.s.get(self.i) {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b't') => self.lit(b"true", Value::Bool(true)),
            Some(b'f') => self.lit(b"false", Value::Bool(false)),
            Some(b'n') => self.lit(b"null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.err("a JSON value")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, JsonError> {
        if depth > self.max_depth {
            return Err(JsonError::TooDeep(self.max_depth));
        }
        self.i += 1;
        let mut members: Vec<(String, Value)> = Vec::new();
        self.ws();
        if self.s.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.ws();
            if self.s.get(self.i) != Some(&b'"') {
                return Err(self.err("a string key"));
            }
            let key = self.string()?;
            if members.iter().any(|(k, _)| *k == key) {
                return Err(JsonError::DuplicateKey(key));
            }
            self.ws();
            if self.s.get(self.i) != Some(&b':') {
                return Err(self.err("':'"));
            }
            self.i += 1;
            self.ws();
            let v = self.value(depth)?;
            members.push((key, v));
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Value::Object(members));
                }
                _ => return Err(self.err("',' or '}'")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, JsonError> {
        if depth > self.max_depth {
            return Err(JsonError::TooDeep(self.max_depth));
        }
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.s.get(self.i) == Some(&b']') {
            self.i += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.ws();
            items.push(self.value(depth)?);
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.err("',' or ']'")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let h = self.s.get(self.i..self.i + 4).ok_or_else(|| self.err("4 hex digits"))?;
        let mut v = 0u32;
        for &c in h {
            let d = (c as char).to_digit(16).ok_or_else(|| self.err("4 hex digits"))?;
            v = v * 16 + d;
        }
        self.i += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.i += 1; // opening quote
        let mut out = String::new();
        loop {
            let start = self.i;
            // Skip 8 plain bytes at a time (long values such as encData are all plain).
            while let Some(chunk) = self.s.get(self.i..self.i + 8) {
                let mut w = [0u8; 8];
                w.copy_from_slice(chunk);
                if word_needs_escape(u64::from_le_bytes(w)) {
                    break;
                }
                self.i += 8;
            }
            while let Some(&c) = self.s.get(self.i) {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            // SAFETY: the whole input was checked as UTF-8 in `parse`, and this run starts
            // and stops at ASCII bytes (a quote, a backslash, a control character or the
            // end), which are never inside a multi-byte sequence.
            out.push_str(unsafe { std::str::from_utf8_unchecked(&self.s[start..self.i]) });
            match self.s.get(self.i) {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = *self.s.get(self.i).ok_or_else(|| self.err("an escape"))?;
                    self.i += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let cp = if (0xD800..0xDC00).contains(&hi) {
                                if self.s.get(self.i..self.i + 2) != Some(b"\\u") {
                                    return Err(self.err("a low surrogate after a high one"));
                                }
                                self.i += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("a low surrogate"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else if (0xDC00..0xE000).contains(&hi) {
                                return Err(self.err("no lone low surrogate"));
                            } else {
                                hi
                            };
                            out.push(char::from_u32(cp).ok_or_else(|| self.err("a character"))?);
                        }
                        _ => {
                            self.i -= 1;
                            return Err(self.err("a valid escape"));
                        }
                    }
                }
                Some(_) => return Err(self.err("no raw control character in a string")),
                None => return Err(self.err("a closing quote")),
            }
        }
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.i;
        let end = number_end(&self.s[start..]).ok_or_else(|| self.err("a number"))?;
        self.i = start + end;
        let lit = std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default();
        Ok(Value::Number(lit.to_owned()))
    }
}

/// Length of the JSON number at the start of `s`, if one is there.
fn number_end(s: &[u8]) -> Option<usize> {
    let mut i = 0;
    let digits = |s: &[u8], mut i: usize| {
        let st = i;
        while s.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        (i > st).then_some(i)
    };
    if s.first() == Some(&b'-') {
        i += 1;
    }
    match s.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(s, i)?,
        _ => return None,
    }
    if s.get(i) == Some(&b'.') {
        i = digits(s, i + 1)?;
    }
    if let Some(b'e' | b'E') = s.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = s.get(i) {
            i += 1;
        }
        i = digits(s, i)?;
    }
    Some(i)
}

/// Whether `lit` is exactly one JSON number literal.
pub fn is_number_literal(lit: &str) -> bool {
    number_end(lit.as_bytes()) == Some(lit.len())
}

/// Whether any byte of the 8 in `w` is a control character, `"` or `\\` (SWAR: the
/// high bit of each result byte says whether that byte matched).
#[inline]
fn word_needs_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w;
    let eq = |c: u8| {
        let x = w ^ (ONES * c as u64);
        x.wrapping_sub(ONES) & !x
    };
    (below_space | eq(b'"') | eq(b'\\')) & HIGH != 0
}

/// Append `s` as a JSON string: `"` and `\` escaped, control characters as `\n`-style
/// escapes or `\u00XX`, everything else (non-ASCII included) raw.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Skip 8 clean bytes at a time: most text (and all hex) needs no escaping.
        if i + 8 <= bytes.len() {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes[i..i + 8]);
            if !word_needs_escape(u64::from_le_bytes(w)) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{:04x}", b);
        } else {
            out.push_str(esc);
        }
        i += 1;
        start = i;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Append the compact JSON of `v` (members in their order, numbers as their literals).
pub fn write_compact(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_compact(out, it);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, (k, it)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write_compact(out, it);
            }
            out.push('}');
        }
    }
}

/// The compact JSON of `v` as a string.
pub fn to_compact(v: &Value) -> String {
    let mut s = String::new();
    write_compact(&mut s, v);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Value, JsonError> {
        parse(s.as_bytes(), Limits::default())
    }

    #[test]
    fn numbers_keep_their_literal() {
        let v = p(r#"[100.00, -0, 1E+2, 12345678901234567890123, 0.10]"#).unwrap();
        assert_eq!(to_compact(&v), "[100.00,-0,1E+2,12345678901234567890123,0.10]");
    }

    #[test]
    fn members_keep_document_order_and_non_ascii_is_raw() {
        let v = p(r#"{"b":"张三","a":{"y":1,"x":[true,null]}}"#).unwrap();
        assert_eq!(to_compact(&v), r#"{"b":"张三","a":{"y":1,"x":[true,null]}}"#);
    }

    #[test]
    fn escapes_decode_and_reencode_like_python_json() {
        let v = p(r#""a\"b\\c\/d\n\u0001\u00e9\ud83d\ude00""#).unwrap();
        assert_eq!(v, Value::String("a\"b\\c/d\n\u{1}é😀".into()));
        assert_eq!(to_compact(&v), "\"a\\\"b\\\\c/d\\n\\u0001é😀\"");
    }

    #[test]
    fn escaping_is_the_same_on_the_word_fast_path_and_byte_by_byte() {
        let samples = ["plain ascii text, longer than eight", "0123456789ABCDEF0123", "a\"b", "\\tail",
            "\u{1}\u{1f}\u{7f}", "张三张三张三 \"quoted\" text\n", "12345678\"", "1234567\n"];
        for s in samples {
            let mut fast = String::new();
            write_string(&mut fast, s);
            let slow: String = std::iter::once("\"".to_string())
                .chain(s.chars().map(|c| match c {
                    '"' => "\\\"".into(),
                    '\\' => "\\\\".into(),
                    '\n' => "\\n".into(),
                    '\r' => "\\r".into(),
                    '\t' => "\\t".into(),
                    '\u{8}' => "\\b".into(),
                    '\u{c}' => "\\f".into(),
                    c if (c as u32) < 0x20 => format!("\\u{:04x}", c as u32),
                    c => c.to_string(),
                }))
                .chain(std::iter::once("\"".to_string()))
                .collect();
            assert_eq!(fast, slow, "{s:?}");
        }
    }

    #[test]
    fn duplicate_keys_are_refused() {
        assert_eq!(p(r#"{"a":1,"a":2}"#), Err(JsonError::DuplicateKey("a".into())));
        assert_eq!(p(r#"{"x":{"a":1,"a":1}}"#), Err(JsonError::DuplicateKey("a".into())));
    }

    #[test]
    fn depth_and_size_are_bounded() {
        let deep = "[".repeat(65) + &"]".repeat(65);
        assert_eq!(p(&deep), Err(JsonError::TooDeep(64)));
        let ok = "[".repeat(64) + &"]".repeat(64);
        assert!(p(&ok).is_ok());
        let lim = Limits { max_bytes: 10, max_depth: 64 };
        assert!(matches!(parse(b"[1,2,3,4,5,6]", lim), Err(JsonError::TooLarge { .. })));
        // Deep nesting far beyond the limit returns an error, not a stack overflow.
        let hostile = "[".repeat(1_000_000);
        assert_eq!(p(&hostile), Err(JsonError::TooDeep(64)));
    }

    #[test]
    fn malformed_json_is_a_syntax_error() {
        for bad in [
            "", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "1e", "\"\\x\"", "\"a\u{1}\"", "tru",
            "{}x", "\"\\ud800\"", "\"\\udc00\"", "NaN", "[1 2]", "{\"a\":1,}",
        ] {
            assert!(matches!(p(bad), Err(JsonError::Syntax { .. })), "accepted {bad:?}");
        }
        assert!(matches!(parse(b"\"\xff\"", Limits::default()), Err(JsonError::Syntax { .. })));
    }

    #[test]
    fn number_literal_grammar() {
        for ok in ["0", "-0", "1.5", "1e5", "1E-5", "-12.50e+3"] {
            assert!(is_number_literal(ok), "{ok}");
        }
        for bad in ["", "01", "+1", ".5", "1.", "1e", "NaN", "Infinity", "1 "] {
            assert!(!is_number_literal(bad), "{bad}");
        }
    }

    /// serde_json (arbitrary_precision) is the oracle: for a spread of inputs both accept
    /// or both reject (duplicates aside), and accepted values agree.
    #[test]
    fn agrees_with_serde_json() {
        let cases = [
            r#"{"a":[1,2.50,{"b":null}],"c":"\u4e2d"}"#,
            r#"[true,false,null,-0.0,12345678901234567890123.5]"#,
            r#""\ud83d\ude00""#,
            r#"{"a":"x","b":[]}"#,
            "[1,]",
            "{\"a\":}",
            "  [ 1 , 2 ]  ",
        ];
        for c in cases {
            let ours = p(c);
            let theirs: Result<serde_json::Value, _> = serde_json::from_str(c);
            assert_eq!(ours.is_ok(), theirs.is_ok(), "{c}");
            if let (Ok(o), Ok(t)) = (ours, theirs) {
                assert_eq!(to_compact(&o), serde_json::to_string(&t).unwrap(), "{c}");
            }
        }
    }
}
