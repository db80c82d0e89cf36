//! JSON as the protocol needs it: numbers kept as their literals (`100.00` stays `100.00`),
//! object members in the order they came, duplicate keys refused, and size and depth
//! bounded so hostile input cannot exhaust memory or the stack.
//!
//! We parse with our own small parser rather than serde_json because we need all four
//! properties in one pass; serde_json (with `arbitrary_precision`) is the oracle the tests
//! compare this parser against.

use std::fmt::Write as _;

/// The text of a string, key or number literal in a [`Value`]. Strings of up to 24 bytes
/// (nearly every key and field value of the protocol) are stored inline: a 6201 upload
/// holds about 2,500 of them, and one heap allocation each was a large part of its cost.
pub type Text = compact_str::CompactString;

/// An object's members, in document order.
pub type Members = Vec<(Text, Value)>;

/// A JSON value. Numbers hold their literal text, validated against the JSON grammar.
///
/// The tag is a full word so that the payload (a `Text`, which has byte alignment) sits
/// at an aligned offset: with a one-byte tag it sat at offset 1, and every move of a
/// value while parsing stalled on store forwarding (a third of the parse time).
#[derive(Debug, Clone, PartialEq, Eq)]
#[repr(u64)]
pub enum Value {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, as its literal.
    Number(Text),
    /// A string.
    String(Text),
    /// An array.
    Array(Vec<Value>),
    /// An object, members in document order, keys unique.
    Object(Members),
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
    /// A number literal beyond [`check_number`]'s bounds; with its byte offset and why.
    Number { offset: usize, what: String },
    /// A [`Builder`] gave up (it holds the reason).
    Aborted,
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
            JsonError::Number { offset, what } => write!(f, "number at byte {offset}: {what}"),
            JsonError::Aborted => write!(f, "JSON parse stopped by its builder"),
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
    parse_with(text, limits, &mut ValueBuilder)
}

/// A builder gave up; it keeps its own reason ([`parse_with`] returns
/// [`JsonError::Aborted`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abort;

/// What a parse makes of each value, bottom-up: [`parse`] builds a [`Value`], and other
/// builders make another form straight from the text (Python objects, the canonical sign
/// text) in the same single pass, under the same grammar, limits and duplicate-key rule.
/// `depth` is the number of arrays and objects around the value (0 for the document).
pub trait Builder<'a> {
    /// A built value.
    type Out;
    fn null(&mut self, depth: usize) -> Result<Self::Out, Abort>;
    fn boolean(&mut self, b: bool, depth: usize) -> Result<Self::Out, Abort>;
    /// A number, as its literal (checked against the grammar).
    fn number(&mut self, lit: &'a str, depth: usize) -> Result<Self::Out, Abort>;
    /// A string without escapes, as it stands in the text: it holds none of the
    /// characters [`write_string`] escapes.
    fn string(&mut self, s: &'a str, depth: usize) -> Result<Self::Out, Abort>;
    /// A string whose escapes were decoded.
    fn decoded_string(&mut self, s: String, depth: usize) -> Result<Self::Out, Abort>;
    /// An array of the values built for its items.
    fn array(&mut self, items: std::vec::Drain<'_, Self::Out>, depth: usize) -> Result<Self::Out, Abort>;
    /// An object of its members in document order, keys unique. A borrowed key is as it
    /// stands in the text (no escapes); an owned one had escapes, decoded.
    fn object(&mut self, members: std::vec::Drain<'_, (Key<'a>, Self::Out)>, depth: usize) -> Result<Self::Out, Abort>;
}

/// An object key as the parser hands it to a [`Builder`].
pub type Key<'a> = std::borrow::Cow<'a, str>;

/// Builds [`Value`]s.
pub struct ValueBuilder;

impl<'a> Builder<'a> for ValueBuilder {
    type Out = Value;
    #[inline]
    fn null(&mut self, _: usize) -> Result<Value, Abort> {
        Ok(Value::Null)
    }
    #[inline]
    fn boolean(&mut self, b: bool, _: usize) -> Result<Value, Abort> {
        Ok(Value::Bool(b))
    }
    #[inline]
    fn number(&mut self, lit: &'a str, _: usize) -> Result<Value, Abort> {
        Ok(Value::Number(Text::new(lit)))
    }
    #[inline]
    fn string(&mut self, s: &'a str, _: usize) -> Result<Value, Abort> {
        Ok(Value::String(Text::new(s)))
    }
    #[inline]
    fn decoded_string(&mut self, s: String, _: usize) -> Result<Value, Abort> {
        Ok(Value::String(Text::from(s)))
    }
    #[inline]
    fn array(&mut self, items: std::vec::Drain<'_, Value>, _: usize) -> Result<Value, Abort> {
        Ok(Value::Array(items.collect()))
    }
    #[inline]
    fn object(&mut self, members: std::vec::Drain<'_, (Key<'a>, Value)>, _: usize) -> Result<Value, Abort> {
        Ok(Value::Object(members.map(|(k, v)| (Text::from(k), v)).collect()))
    }
}

/// Parse one JSON text with `builder` (see [`Builder`]); the limits and errors are those
/// of [`parse`], plus [`JsonError::Aborted`] when the builder gives up.
///
/// ```
/// use medpay_core::json::{parse_with, Limits, ValueBuilder, Value};
/// let v = parse_with(br#"[1, "a"]"#, Limits::default(), &mut ValueBuilder).unwrap();
/// assert_eq!(v, Value::Array(vec![Value::Number("1".into()), Value::String("a".into())]));
/// ```
pub fn parse_with<'a, B: Builder<'a>>(text: &'a [u8], limits: Limits, builder: &mut B) -> Result<B::Out, JsonError> {
    if text.len() > limits.max_bytes {
        return Err(JsonError::TooLarge { size: text.len(), limit: limits.max_bytes });
    }
    check_utf8(text)?;
    let mut p = Parser {
        s: text,
        i: 0,
        max_depth: limits.max_depth,
        members: Vec::new(),
        fingerprints: Vec::new(),
        items: Vec::new(),
        error: None,
        b: builder,
    };
    p.ws();
    let parsed = p.value(0).and_then(|v| {
        p.ws();
        if p.i == p.s.len() {
            Ok(v)
        } else {
            Err(p.err("end of input after the JSON value"))
        }
    });
    parsed.map_err(|Fail| p.error.take().unwrap_or(JsonError::Syntax { offset: p.i, what: "valid JSON".into() }))
}

/// `text` as a str, or the parse error of text that is not UTF-8.
pub fn check_utf8(text: &[u8]) -> Result<&str, JsonError> {
    // simdutf8 checks valid text several times faster than std (SIMD, chosen at run time);
    // only on failure does std find where.
    simdutf8::basic::from_utf8(text).map_err(|_| {
        let offset = std::str::from_utf8(text).err().map_or(0, |e| e.valid_up_to());
        JsonError::Syntax { offset, what: "invalid UTF-8".into() }
    })
}

struct Parser<'a, 'b, B: Builder<'a>> {
    s: &'a [u8],
    i: usize,
    max_depth: usize,
    // Scratch stacks shared by every object and array being parsed: members are collected
    // here and handed to the builder when the container closes, instead of each container
    // growing its own Vec step by step.
    members: Vec<(Key<'a>, B::Out)>,
    // The fingerprint of each key on `members`, at the same index.
    fingerprints: Vec<u64>,
    items: Vec<B::Out>,
    // The error of a failed parse. Parser methods return the zero-sized `Fail` so that
    // their results stay as small as the values (moved on every token).
    error: Option<JsonError>,
    b: &'b mut B,
}

/// A parse failed; the error is in `Parser::error`.
struct Fail;

/// A string token: borrowed from the text when it has no escapes.
enum Token<'a> {
    Plain(&'a str),
    Decoded(String),
}

/// Objects with more members than this are checked for duplicate keys by sorting when they
/// close (O(n log n) even for hostile input); smaller ones by scanning as they are read.
const SCAN_DUPLICATES_UP_TO: usize = 128;

/// A cheap summary of a key (its length and four of its bytes): keys with different
/// fingerprints differ, so the duplicate scan compares whole keys only when these match.
#[inline]
fn key_fingerprint(k: &str) -> u64 {
    let b = k.as_bytes();
    let n = b.len();
    if n == 0 {
        return 0;
    }
    n as u64 | (b[0] as u64) << 16 | (b[n - 1] as u64) << 24 | (b[n / 2] as u64) << 32 | (b[n / 3] as u64) << 40
}

impl<'a, B: Builder<'a>> Parser<'a, '_, B> {
    fn err(&mut self, what: &str) -> Fail {
        let e = JsonError::Syntax { offset: self.i, what: format!("expected {what}") };
        self.fail(e)
    }

    fn fail(&mut self, e: JsonError) -> Fail {
        self.error = Some(e);
        Fail
    }

    /// Map a builder's result into the parser's.
    #[inline]
    fn built(&mut self, r: Result<B::Out, Abort>) -> Result<B::Out, Fail> {
        r.map_err(|Abort| self.fail(JsonError::Aborted))
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    fn lit(&mut self, word: &[u8]) -> Result<(), Fail> {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(self.err("a JSON value"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<B::Out, Fail> {
        let r = match self.s.get(self.i) {
            Some(b'{') => return self.object(depth + 1),
            Some(b'[') => return self.array(depth + 1),
            Some(b'"') => match self.string()? {
                Token::Plain(s) => self.b.string(s, depth),
                Token::Decoded(s) => self.b.decoded_string(s, depth),
            },
            Some(b't') => {
                self.lit(b"true")?;
                self.b.boolean(true, depth)
            }
            Some(b'f') => {
                self.lit(b"false")?;
                self.b.boolean(false, depth)
            }
            Some(b'n') => {
                self.lit(b"null")?;
                self.b.null(depth)
            }
            Some(b'-' | b'0'..=b'9') => {
                let lit = self.number()?;
                self.b.number(lit, depth)
            }
            _ => return Err(self.err("a JSON value")),
        };
        self.built(r)
    }

    fn object(&mut self, depth: usize) -> Result<B::Out, Fail> {
        if depth > self.max_depth {
            return Err(self.fail(JsonError::TooDeep(self.max_depth)));
        }
        self.i += 1;
        self.ws();
        let start = self.members.len();
        if self.s.get(self.i) == Some(&b'}') {
            self.i += 1;
        } else {
            let result = self.object_members(depth, start);
            self.fingerprints.truncate(start);
            if result.is_err() {
                self.members.truncate(start);
                return Err(Fail);
            }
            if self.members.len() - start > SCAN_DUPLICATES_UP_TO {
                let mut keys: Vec<&str> = self.members[start..].iter().map(|(k, _)| &**k).collect();
                keys.sort_unstable();
                if let Some(w) = keys.windows(2).find(|w| w[0] == w[1]) {
                    let e = JsonError::DuplicateKey(w[0].to_owned());
                    self.members.truncate(start);
                    return Err(self.fail(e));
                }
            }
        }
        let r = self.b.object(self.members.drain(start..), depth - 1);
        self.built(r)
    }

    /// Parse members onto the scratch stack (from `start`) up to and including the `}`.
    fn object_members(&mut self, depth: usize, start: usize) -> Result<(), Fail> {
        // One bit per fingerprint seen so far (of 128, picked by a multiplicative hash):
        // a key whose bit is clear cannot repeat one, and needs no scan.
        let mut seen = 0u128;
        loop {
            self.ws();
            if self.s.get(self.i) != Some(&b'"') {
                return Err(self.err("a string key"));
            }
            let key: Key<'a> = match self.string()? {
                Token::Plain(s) => Key::Borrowed(s),
                Token::Decoded(s) => Key::Owned(s),
            };
            let fp = key_fingerprint(&key);
            let bit = 1u128 << (fp.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 57);
            if self.members.len() - start < SCAN_DUPLICATES_UP_TO && seen & bit != 0 {
                // Equal fingerprints are rare; only then are whole keys compared.
                if self.fingerprints[start..].contains(&fp) && self.members[start..].iter().any(|(k, _)| *k == key) {
                    return Err(self.fail(JsonError::DuplicateKey(key.into_owned())));
                }
            }
            self.ws();
            if self.s.get(self.i) != Some(&b':') {
                return Err(self.err("':'"));
            }
            self.i += 1;
            self.ws();
            let v = self.value(depth)?;
            self.members.push((key, v));
            self.fingerprints.push(fp);
            seen |= bit;
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(self.err("',' or '}'")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<B::Out, Fail> {
        if depth > self.max_depth {
            return Err(self.fail(JsonError::TooDeep(self.max_depth)));
        }
        self.i += 1;
        self.ws();
        let start = self.items.len();
        if self.s.get(self.i) == Some(&b']') {
            self.i += 1;
        } else if self.array_items(depth).is_err() {
            self.items.truncate(start);
            return Err(Fail);
        }
        let r = self.b.array(self.items.drain(start..), depth - 1);
        self.built(r)
    }

    /// Parse items onto the scratch stack up to and including the `]`.
    fn array_items(&mut self, depth: usize) -> Result<(), Fail> {
        loop {
            self.ws();
            let v = self.value(depth)?;
            self.items.push(v);
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(self.err("',' or ']'")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, Fail> {
        let h = self.s.get(self.i..self.i + 4).ok_or_else(|| self.err("4 hex digits"))?;
        let mut v = 0u32;
        for &c in h {
            let d = (c as char).to_digit(16).ok_or_else(|| self.err("4 hex digits"))?;
            v = v * 16 + d;
        }
        self.i += 4;
        Ok(v)
    }
    /// Advance over bytes that need no unescaping (8 at a time: long values such as
    /// encData are all plain) and return them.
    fn plain_run(&mut self) -> &'a str {
        let start = self.i;
        self.i += plain_len(&self.s[start..]);
        let s: &'a [u8] = self.s;
        // SAFETY: the whole input was checked as UTF-8 in `parse`, and this run starts and
        // stops at ASCII bytes (a quote, a backslash, a control character or the end),
        // which are never inside a multi-byte sequence.
        unsafe { std::str::from_utf8_unchecked(&s[start..self.i]) }
    }

    fn string(&mut self) -> Result<Token<'a>, Fail> {
        self.i += 1; // opening quote
        let run = self.plain_run();
        if self.s.get(self.i) == Some(&b'"') {
            // No escapes: the common case, borrowed.
            self.i += 1;
            return Ok(Token::Plain(run));
        }
        let mut out = String::from(run);
        loop {
            let run = self.plain_run();
            out.push_str(run);
            match self.s.get(self.i) {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(Token::Decoded(out));
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

    fn number(&mut self) -> Result<&'a str, Fail> {
        let start = self.i;
        let end = number_end(&self.s[start..]).ok_or_else(|| self.err("a number"))?;
        let s: &'a [u8] = self.s;
        // SAFETY: a number literal is ASCII (checked by number_end).
        let lit = unsafe { std::str::from_utf8_unchecked(&s[start..start + end]) };
        // No literal this short can break check_number's bound: skip it on the hot path.
        if end > MAX_INTEGER_DIGITS {
            if let Err(what) = check_number(lit) {
                return Err(self.fail(JsonError::Number { offset: start, what }));
            }
        }
        self.i = start + end;
        Ok(lit)
    }
}

/// How many bytes at the start of `s` need no unescaping: up to a quote, a backslash or a
/// control character. On x86_64, 16 bytes at a time with SSE2 (part of every x86_64 CPU):
/// long values such as `encData` are all plain.
#[cfg(target_arch = "x86_64")]
fn plain_len(s: &[u8]) -> usize {
    use std::arch::x86_64::*;
    let mut i = 0;
    while i + 16 <= s.len() {
        // SAFETY: the 16 bytes read are inside `s`; SSE2 is part of x86_64.
        let stops = unsafe {
            let x = _mm_loadu_si128(s.as_ptr().add(i).cast());
            let quote = _mm_cmpeq_epi8(x, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(x, _mm_set1_epi8(b'\\' as i8));
            // Unsigned x <= 0x1f exactly when max(x, 0x1f) == 0x1f.
            let control = _mm_cmpeq_epi8(_mm_max_epu8(x, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
            _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control))
        };
        if stops != 0 {
            return i + stops.trailing_zeros() as usize;
        }
        i += 16;
    }
    i + plain_len_portable(&s[i..])
}

#[cfg(not(target_arch = "x86_64"))]
fn plain_len(s: &[u8]) -> usize {
    plain_len_portable(s)
}

/// [`plain_len`] in portable code: 8 bytes at a time (SWAR), then byte by byte.
fn plain_len_portable(s: &[u8]) -> usize {
    let mut i = 0;
    while let Some(chunk) = s.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let m = escape_mask(u64::from_le_bytes(w));
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = s.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        i += 1;
    }
    i
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

/// The most digits an integer literal (no fraction, no exponent) may have: CPython's
/// default bound on converting decimal text to `int` (`sys.get_int_max_str_digits()`).
/// Every integer the core accepts thus becomes a Python `int`, and a longer one is refused
/// as it is read, typed and before any object is built from the text, instead of failing
/// in the binding with a bare `ValueError` (no protocol field has more than about 20
/// digits; only a hostile peer sends thousands). A literal with a fraction or an exponent
/// becomes a `Decimal`, which has no such bound; one that Python still cannot convert (an
/// exponent beyond `Decimal`'s) is the binding's EnvelopeError.
pub const MAX_INTEGER_DIGITS: usize = 4300;

/// Whether a number literal (of the JSON grammar) is within [`MAX_INTEGER_DIGITS`]: the
/// one check of the parser and of every binding's writer. The error says why, without the
/// literal (which may be megabytes).
///
/// ```
/// use medpay_core::json::check_number;
/// assert!(check_number(&"9".repeat(4300)).is_ok());
/// assert!(check_number(&format!("-{}", "9".repeat(4301))).unwrap_err().contains("4301 digits"));
/// assert!(check_number(&format!("{}.5", "9".repeat(5000))).is_ok());
/// assert!(check_number(&format!("{}e2", "9".repeat(5000))).is_ok());
/// ```
pub fn check_number(lit: &str) -> Result<(), String> {
    let b = lit.as_bytes();
    if b.contains(&b'.') || b.contains(&b'e') || b.contains(&b'E') {
        return Ok(());
    }
    let digits = b.len() - usize::from(b.first() == Some(&b'-'));
    if digits > MAX_INTEGER_DIGITS {
        return Err(format!(
            "an integer of {digits} digits is over the limit of {MAX_INTEGER_DIGITS} digits (Python's int conversion limit)"
        ));
    }
    Ok(())
}

/// Whether `lit` is exactly one JSON number literal.
pub fn is_number_literal(lit: &str) -> bool {
    number_end(lit.as_bytes()) == Some(lit.len())
}

/// The bytes of `w` (8, little-endian) that are a control character, `"` or `\\`: the
/// high bit of each such byte is set (SWAR). Bytes above the first match may be marked
/// falsely, so only the lowest mark is exact, which is all the scanners use.
#[inline]
pub(crate) fn escape_mask(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w;
    let eq = |c: u8| {
        let x = w ^ (ONES * c as u64);
        x.wrapping_sub(ONES) & !x
    };
    (below_space | eq(b'"') | eq(b'\\')) & HIGH
}

/// An escape [`write_escaped`] writes in place of a character.
#[derive(Clone, Copy)]
pub(crate) enum Escape {
    /// A short escape such as `\n`.
    Short(&'static str),
    /// `\u` and four hex digits of the code unit, in the given case.
    Unicode { code: u32, upper: bool },
}

/// Append `s` quoted, with escapes: `mask` marks (as [`escape_mask`] does) the bytes of an
/// 8-byte word that may start a character to escape, and `escape(bytes, i)` tells whether
/// the character at `i` is escaped, how, and how many bytes it has. Plain runs are copied
/// whole: most text (and all hex) needs no escaping.
#[inline(always)]
pub(crate) fn write_escaped(
    out: &mut String,
    s: &str,
    mask: impl Fn(u64) -> u64,
    escape: impl Fn(&[u8], usize) -> Option<(Escape, usize)>,
) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Skip 8 clean bytes at a time.
        if i + 8 <= bytes.len() {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes[i..i + 8]);
            let m = mask(u64::from_le_bytes(w));
            if m == 0 {
                i += 8;
                continue;
            }
            i += (m.trailing_zeros() / 8) as usize; // the first byte that may need it
        }
        let Some((esc, len)) = escape(bytes, i) else {
            i += 1;
            continue;
        };
        out.push_str(&s[start..i]);
        match esc {
            Escape::Short(e) => out.push_str(e),
            Escape::Unicode { code, upper: true } => {
                let _ = write!(out, "\\u{code:04X}");
            }
            Escape::Unicode { code, upper: false } => {
                let _ = write!(out, "\\u{code:04x}");
            }
        }
        i += len;
        start = i;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// The short escape of `b` (`"`, `\\` and five control characters), if it has one.
#[inline(always)]
pub(crate) fn short_escape(b: u8) -> Option<&'static str> {
    Some(match b {
        b'"' => "\\\"",
        b'\\' => "\\\\",
        b'\n' => "\\n",
        b'\r' => "\\r",
        b'\t' => "\\t",
        0x08 => "\\b",
        0x0c => "\\f",
        _ => return None,
    })
}

/// Append `s` as a JSON string: `"` and `\` escaped, control characters as `\n`-style
/// escapes or `\u00xx`, everything else (non-ASCII included) raw.
pub fn write_string(out: &mut String, s: &str) {
    write_escaped(out, s, escape_mask, |b, i| match (short_escape(b[i]), b[i]) {
        (Some(e), _) => Some((Escape::Short(e), 1)),
        (None, c @ 0..=0x1f) => Some((Escape::Unicode { code: c as u32, upper: false }, 1)),
        _ => None,
    });
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

/// Whether the compact JSON of `v` is at least `n` bytes (strings counted without their
/// escapes, so exact for text that needs none). Stops as soon as it knows, so it costs little even for a huge value.
pub fn to_compact_len_at_least(v: &Value, n: usize) -> bool {
    fn take(left: &mut usize, k: usize) -> bool {
        *left = left.saturating_sub(k);
        *left == 0
    }
    fn walk(v: &Value, left: &mut usize) -> bool {
        match v {
            Value::Null | Value::Bool(_) => take(left, 4),
            Value::Number(t) => take(left, t.len()),
            Value::String(t) => take(left, t.len() + 2),
            Value::Array(items) => take(left, 1 + items.len().max(1)) || items.iter().any(|x| walk(x, left)),
            Value::Object(members) => {
                take(left, 1 + members.len().max(1))
                    || members.iter().any(|(k, x)| take(left, k.len() + 3) || walk(x, left))
            }
        }
    }
    let mut left = n;
    n == 0 || walk(v, &mut left)
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
    fn integers_longer_than_python_converts_are_refused() {
        let n = "9".repeat(MAX_INTEGER_DIGITS);
        assert!(p(&format!("[-{n}, {n}.5e-7, {n}9.5, {n}9e0]")).is_ok());
        for bad in [format!("[1,{n}9]"), format!(r#"{{"a":-{n}9}}"#)] {
            let e = p(&bad).unwrap_err();
            assert!(matches!(e, JsonError::Number { .. }), "{bad:.20}: {e}");
            assert!(e.to_string().contains("digits") && e.to_string().len() < 200, "{e}");
        }
        // The literal's offset is given, not its text.
        assert!(p(&format!("[1,{n}9]")).unwrap_err().to_string().starts_with("number at byte 3:"));
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
        let samples = [
            "plain ascii text, longer than eight",
            "0123456789ABCDEF0123",
            "a\"b",
            "\\tail",
            "\u{1}\u{1f}\u{7f}",
            "张三张三张三 \"quoted\" text\n",
            "12345678\"",
            "1234567\n",
        ];
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
    fn plain_runs_end_at_the_same_byte_on_every_path() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for len in 0..80 {
            for _ in 0..200 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        // Mostly plain bytes (ASCII and high), now and then one that stops.
                        match seed % 64 {
                            0 => b'"',
                            1 => b'\\',
                            2 => (seed >> 8) as u8 % 0x20,
                            _ => 0x20 + (seed >> 8) as u8 % 0xe0,
                        }
                    })
                    .collect();
                let expected = bytes.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20).unwrap_or(len);
                assert_eq!(plain_len(&bytes), expected, "{bytes:?}");
                assert_eq!(plain_len_portable(&bytes), expected, "{bytes:?}");
            }
        }
    }

    #[test]
    fn duplicate_keys_are_refused() {
        assert_eq!(p(r#"{"a":1,"a":2}"#), Err(JsonError::DuplicateKey("a".into())));
        assert_eq!(p(r#"{"x":{"a":1,"a":1}}"#), Err(JsonError::DuplicateKey("a".into())));
    }

    #[test]
    fn duplicate_keys_are_found_in_objects_of_every_size() {
        for n in [2usize, 40, 127, 128, 129, 1000] {
            let members: Vec<String> = (0..n).map(|i| format!("\"k{i}\":{i}")).collect();
            let ok = format!("{{{}}}", members.join(","));
            assert!(p(&ok).is_ok(), "{n} distinct keys");
            // The last key repeats the first (scan for small objects, sort for large ones).
            let dup = format!("{{{},\"k0\":0}}", members.join(","));
            assert_eq!(p(&dup), Err(JsonError::DuplicateKey("k0".into())), "{n}");
        }
    }

    #[test]
    fn keys_with_the_same_fingerprint_are_told_apart() {
        assert_eq!(key_fingerprint("a1cdef"), key_fingerprint("a2cdef"));
        assert!(p(r#"{"a1cdef":1,"a2cdef":2}"#).is_ok());
        assert_eq!(p(r#"{"a1cdef":1,"a1cdef":2}"#), Err(JsonError::DuplicateKey("a1cdef".into())));
    }

    #[test]
    fn compact_length_bound_agrees_with_the_compact_text() {
        for text in [r#"{}"#, r#"[1,"ab",null,true,{"k":[]}]"#, r#"{"a":"张三","b":[{"c":1.50}]}"#] {
            let v = p(text).unwrap();
            let len = to_compact(&v).len();
            for n in 0..len + 3 {
                assert_eq!(to_compact_len_at_least(&v, n), len >= n, "{text} {n}");
            }
        }
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
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "01",
            "1.",
            "-",
            "1e",
            "\"\\x\"",
            "\"a\u{1}\"",
            "tru",
            "{}x",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "NaN",
            "[1 2]",
            "{\"a\":1,}",
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
