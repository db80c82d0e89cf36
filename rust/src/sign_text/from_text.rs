//! The canonical JSON straight from JSON text, in one pass and without a [`Value`] tree:
//! the same text as [`super::canonical_json_with_style`] of the parsed value (the tests
//! hold the two routes equal), under the limits and errors of [`json::parse`].
//!
//! [`Value`]: crate::json::Value

use super::sort::KeySorter;
use super::{escape, write_bool, write_number, Element, Empties, Shape, Style};
use crate::json::{self, Abort, JsonError, Limits};

/// The canonical JSON of a JSON text's value, built straight from the text in one pass
/// (no [`Value`](crate::json::Value)): the same as [`super::canonical_json_with_style`]
/// of the parsed value, under the same limits and errors as [`json::parse`]. `None` when
/// the value is a scalar, which a top-level field renders raw, or the text is over 512 MiB
/// (parse it instead).
///
/// ```
/// use medpay_core::json::Limits;
/// use medpay_core::sign_text::{canonical_json_of_text, Style};
/// let c = canonical_json_of_text(br#"{"b":[[],1],"a":"","c":{}}"#, Limits::default(), Style::PROTOCOL);
/// assert_eq!(c.unwrap().as_deref(), Some(r#"{"b":[null,"1"],"c":{}}"#));
/// ```
pub fn canonical_json_of_text(text: &[u8], limits: Limits, style: Style) -> Result<Option<String>, JsonError> {
    let mut out = String::new();
    Ok(build(&mut out, text, limits, style)?.map(|_| out))
}

/// Append the canonical JSON of a JSON text's value to `out`, as a top-level field's value
/// (an empty array is written as the SDK writes it there): whether it did (see
/// [`canonical_json_of_text`] for when it does not; `out` is then as it was).
pub(crate) fn canonical_json_into(
    out: &mut String,
    text: &[u8],
    limits: Limits,
    style: Style,
) -> Result<bool, JsonError> {
    let start = out.len();
    match build(out, text, limits, style)? {
        Some(root) if root.0 & Rendered::EMPTY_ARRAY != 0 => {
            out.truncate(start);
            out.push_str(super::empty_top_level_array(style));
            Ok(true)
        }
        Some(_) => Ok(true),
        None => Ok(false),
    }
}

/// Build the canonical JSON at the end of `out`; the root's [`Rendered`], or `None` (and
/// `out` as it was) for a scalar or an over-long text.
fn build(out: &mut String, text: &[u8], limits: Limits, style: Style) -> Result<Option<Rendered>, JsonError> {
    if text.len() > limits.max_bytes {
        return Err(JsonError::TooLarge { size: text.len(), limit: limits.max_bytes });
    }
    let start = out.len();
    // Offsets into `out` must fit the 32 bits `Rendered` keeps (the canonical text is at
    // most about twice the JSON text).
    if text.len() > Rendered::MAX_TEXT || start > u32::MAX as usize / 2 {
        return Ok(None);
    }
    out.reserve(text.len() + text.len() / 8);
    let text_str = json::check_utf8(text)?;
    let mut b = CanonicalBuilder {
        style,
        // One scan of the whole text spares one per string: most texts hold none.
        extra_escapes: style.escapes == escape::Escapes::Fastjson1 && escape::has_fastjson1_extra(text_str),
        text: text_str,
        out: std::mem::take(out),
        scratch: String::new(),
        members: Vec::new(),
        items: Vec::new(),
        sorter: KeySorter::new(style.key_order),
    };
    let root = json::parse_with(text, limits, &mut b);
    *out = b.out;
    let root = root?;
    if root.kind() != Rendered::CONTAINER {
        out.truncate(start);
        return Ok(None);
    }
    Ok(Some(root))
}

/// Builds the canonical JSON bottom-up, in one pass over the text. A scalar stays where
/// it is in the text until its container closes; a container, when it closes, writes its
/// canonical text (members sorted, values left out dropped) at the end of `out`, where it
/// replaces the texts of the containers inside it, which lie there side by side in order.
struct CanonicalBuilder<'a> {
    style: Style,
    /// Whether the text holds a character that only fastjson 1.x escapes, which a string
    /// without escapes in the text may then still need.
    extra_escapes: bool,
    text: &'a str,
    out: String,
    scratch: String,
    // The kept members of the object closing: key, value and where the value's text ends
    // in `out` (for one there).
    members: Vec<(json::Key<'a>, Rendered, usize)>,
    // The same for the kept items of an array, with what the array does with each.
    items: Vec<(Rendered, usize, Element)>,
    sorter: KeySorter,
}

/// A built value in one word, so that the parser moves it in a register: the kind in the
/// top 3 bits; for a string or number, its offset (low 32 bits) and length (the 29 bits
/// between) in the text; for a container or an escaped string, where its canonical text
/// starts in `out` (it ends where the next such value's starts), and for a container
/// whether it was an empty array and whether nothing of its contents was kept.
#[derive(Clone, Copy)]
struct Rendered(u64);

impl Rendered {
    const NULL: u64 = 0;
    const TRUE: u64 = 1;
    const FALSE: u64 = 2;
    const NUMBER: u64 = 3;
    const STRING: u64 = 4;
    /// A container, its canonical text in `out`.
    const CONTAINER: u64 = 5;
    /// A string with escapes, its canonical text in `out`.
    const ESCAPED: u64 = 6;
    /// A container that is an array with no elements in the text.
    const EMPTY_ARRAY: u64 = 1 << 32;
    /// A container none of whose contents was kept.
    const EMPTIED: u64 = 1 << 33;
    /// Longer texts are left to the parsed route (offsets and lengths must fit).
    const MAX_TEXT: usize = (1 << 29) - 1;

    fn scalar(kind: u64) -> Self {
        Rendered(kind << 61)
    }
    fn span(kind: u64, offset: usize, len: usize) -> Self {
        Rendered(kind << 61 | (len as u64) << 32 | offset as u64)
    }
    fn kind(self) -> u64 {
        self.0 >> 61
    }
    fn offset(self) -> usize {
        self.0 as u32 as usize
    }
    fn len(self) -> usize {
        ((self.0 >> 32) & ((1 << 29) - 1)) as usize
    }
    /// Whether the canonical text is in `out` (where the value's container replaces it).
    fn in_out(self) -> bool {
        matches!(self.kind(), Self::CONTAINER | Self::ESCAPED)
    }
    /// What the rules for empty values see (escaped strings are never empty).
    fn shape(self) -> Shape {
        match self.kind() {
            Self::NULL => Shape::Null,
            Self::STRING if self.len() == 0 => Shape::EmptyString,
            Self::CONTAINER if self.0 & Self::EMPTY_ARRAY != 0 => Shape::EmptyArray,
            Self::CONTAINER => Shape::Container { emptied: self.0 & Self::EMPTIED != 0 },
            _ => Shape::Scalar,
        }
    }
}

impl<'a> CanonicalBuilder<'a> {
    /// Where `s`, a slice of the text, starts in it.
    fn offset_of(&self, s: &str) -> usize {
        s.as_ptr() as usize - self.text.as_ptr() as usize
    }

    /// The text of a string or number.
    fn source(&self, r: Rendered) -> &'a str {
        let text: &'a str = self.text;
        &text[r.offset()..r.offset() + r.len()]
    }

    /// Append a member's or element's canonical text (`depth` is its own; `end` is where
    /// its text ends in `out`, for one there) to `to`.
    fn put(&self, to: &mut String, r: Rendered, end: usize, depth: usize) {
        match r.kind() {
            Rendered::CONTAINER | Rendered::ESCAPED => to.push_str(&self.out[r.offset()..end]),
            Rendered::STRING => self.put_plain_string(to, self.source(r)),
            Rendered::NUMBER => write_number(to, self.source(r), self.style, depth),
            Rendered::TRUE => write_bool(to, true, self.style, depth),
            Rendered::FALSE => write_bool(to, false, self.style, depth),
            _ => to.push_str("null"),
        }
    }

    /// A string as it stands in the text (no `"`, `\` or control character), quoted and
    /// with what the escaping still needs.
    #[inline(always)]
    fn put_plain_string(&self, to: &mut String, s: &str) {
        if self.extra_escapes && escape::has_fastjson1_extra(s) {
            escape::write_string(to, s, self.style.escapes);
        } else {
            to.push('"');
            to.push_str(s);
            to.push('"');
        }
    }

    /// Where each value's text ends in `out`, for the values of one container in document
    /// order: the next such value's start, or the end of `out`. Calls `keep` with each
    /// value and its end, last value first; returns where the first value in `out` starts.
    fn walk<T>(
        &self,
        values: impl DoubleEndedIterator<Item = (T, Rendered)>,
        mut keep: impl FnMut(T, Rendered, usize),
    ) -> usize {
        // Backwards, so that each value's end (the start of the next one) is known.
        let mut next = self.out.len();
        for (t, r) in values.rev() {
            let end = next;
            if r.in_out() {
                next = r.offset();
            }
            keep(t, r, end);
        }
        next
    }

    /// Write a container's canonical text (`write` appends it to the buffer it is given)
    /// in place of its contents' texts, which start at `start` in `out`.
    fn close(&mut self, start: usize, flags: u64, write: impl FnOnce(&Self, &mut String)) -> Rendered {
        if start == self.out.len() {
            // Nothing inside it is in `out`: write it straight there.
            let mut out = std::mem::take(&mut self.out);
            write(self, &mut out);
            self.out = out;
        } else {
            let mut scratch = std::mem::take(&mut self.scratch);
            scratch.clear();
            write(self, &mut scratch);
            self.out.replace_range(start.., &scratch);
            self.scratch = scratch;
        }
        Rendered(Rendered::CONTAINER << 61 | flags | start as u64)
    }
}

impl<'a> json::Builder<'a> for CanonicalBuilder<'a> {
    type Out = Rendered;

    fn null(&mut self, _: usize) -> Result<Rendered, Abort> {
        Ok(Rendered::scalar(Rendered::NULL))
    }
    fn boolean(&mut self, b: bool, _: usize) -> Result<Rendered, Abort> {
        Ok(Rendered::scalar(if b { Rendered::TRUE } else { Rendered::FALSE }))
    }
    fn number(&mut self, lit: &'a str, _: usize) -> Result<Rendered, Abort> {
        Ok(Rendered::span(Rendered::NUMBER, self.offset_of(lit), lit.len()))
    }
    fn string(&mut self, s: &'a str, _: usize) -> Result<Rendered, Abort> {
        Ok(Rendered::span(Rendered::STRING, self.offset_of(s), s.len()))
    }
    fn decoded_string(&mut self, s: String, _: usize) -> Result<Rendered, Abort> {
        let start = self.out.len();
        escape::write_string(&mut self.out, &s, self.style.escapes);
        Ok(Rendered::span(Rendered::ESCAPED, start, 0))
    }

    fn array(&mut self, items: std::vec::Drain<'_, Rendered>, depth: usize) -> Result<Rendered, Abort> {
        let style = self.style;
        let empty = items.len() == 0;
        let mut kept = std::mem::take(&mut self.items);
        kept.clear();
        // Backwards: whether an element other than "" follows is known on the way.
        let mut followed = false;
        let start = self.walk(items.map(|r| ((), r)), |(), r, end| {
            let shape = r.shape();
            let action = style.element(shape, followed);
            followed |= shape != Shape::EmptyString;
            if matches!(action, Element::Write | Element::Null) {
                kept.push((r, end, action));
            }
        });
        kept.reverse();
        let mut flags = if kept.is_empty() { Rendered::EMPTIED } else { 0 };
        if empty {
            flags |= Rendered::EMPTY_ARRAY;
        }
        let built = self.close(start, flags, |b, to| {
            to.push('[');
            for (i, &(r, end, action)) in kept.iter().enumerate() {
                if i > 0 {
                    style.push_comma(to);
                }
                match action {
                    Element::Null => to.push_str("null"),
                    _ => b.put(to, r, end, depth + 1),
                }
            }
            to.push(']');
        });
        self.items = kept;
        Ok(built)
    }

    fn object(
        &mut self,
        members: std::vec::Drain<'_, (json::Key<'a>, Rendered)>,
        depth: usize,
    ) -> Result<Rendered, Abort> {
        let style = self.style;
        let mut kept = std::mem::take(&mut self.members);
        kept.clear();
        let start = self.walk(members, |k, r, end| {
            if !style.drops_member(r.shape()) {
                kept.push((k, r, end));
            }
        });
        kept.reverse();
        self.sorter.sort(kept.iter().map(|(k, _, _)| &**k));
        // Taken out for the closure, which reads the builder, and put back below.
        let order = std::mem::take(&mut self.sorter.positions);
        let flags = if order.is_empty() && style.empties == Empties::DropEmptied { Rendered::EMPTIED } else { 0 };
        let built = self.close(start, flags, |b, to| {
            to.push('{');
            for (i, &at) in order.iter().enumerate() {
                if i > 0 {
                    style.push_comma(to);
                }
                let (k, r, end) = &kept[at as usize];
                match k {
                    json::Key::Borrowed(k) => b.put_plain_string(to, k),
                    json::Key::Owned(k) => escape::write_string(to, k, style.escapes),
                }
                style.push_colon(to);
                b.put(to, *r, *end, depth + 1);
            }
            to.push('}');
        });
        self.sorter.positions = order;
        self.members = kept;
        Ok(built)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{
        canonical_json_with_style, sign_text, sign_text_of_json_data, KeyOrder, NumberStyle, Separators, Stringify,
    };
    use super::*;
    use crate::json::{parse, Text, Value};

    /// A random JSON text: nested objects and arrays with keys that collide by case and
    /// share prefixes, escapes, the characters the two escapings differ on, empty strings,
    /// nulls, empty containers, booleans and number literals (exponents, negative zero).
    pub(crate) fn random_json(seed: &mut u64, depth: usize, out: &mut String) {
        fn next(seed: &mut u64, n: u64) -> u64 {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            *seed % n
        }
        const KEYS: [&str; 12] = [
            "a",
            "B",
            "b",
            "feeType",
            "feedetailList",
            "medListCodg",
            "medListCodgX",
            r#"k\\\"q"#,
            r#"\u00e9t\u00e9"#,
            "",
            "\u{85}x",
            "\u{FF01}",
        ];
        const SCALARS: [&str; 18] = [
            "null",
            "true",
            "false",
            "0",
            "-0",
            "-0.00",
            "1e2",
            "0.0000001",
            "-1.50e3",
            "100.00",
            r#""""#,
            r#""x""#,
            r#""张三""#,
            r#""a\nb\u0001\u001f""#,
            "\"\u{7f}\u{a0}\u{2028}\"",
            r#""\u0085\u2029""#,
            r#""\ud83d\ude00""#,
            "12345678901234567890",
        ];
        match if depth >= 4 { 2 } else { next(seed, 3) } {
            0 => {
                out.push('{');
                let mut used = Vec::new();
                for _ in 0..next(seed, 6) {
                    let k = KEYS[next(seed, KEYS.len() as u64) as usize];
                    if used.contains(&k) {
                        continue;
                    }
                    if !used.is_empty() {
                        out.push(',');
                    }
                    used.push(k);
                    out.push('"');
                    out.push_str(k);
                    out.push_str("\":");
                    random_json(seed, depth + 1, out);
                }
                out.push('}');
            }
            1 => {
                out.push('[');
                for i in 0..next(seed, 5) {
                    if i > 0 {
                        out.push(',');
                    }
                    random_json(seed, depth + 1, out);
                }
                out.push(']');
            }
            _ => out.push_str(SCALARS[next(seed, SCALARS.len() as u64) as usize]),
        }
    }

    #[test]
    fn canonical_json_from_text_equals_canonical_json_of_the_parsed_value_in_every_style() {
        let p = Style::PROTOCOL;
        let styles = [
            p,
            Style::with_order(KeyOrder::CaseInsensitive),
            Style { escapes: escape::Escapes::Fastjson2, ..p },
            Style { stringify: Stringify::None, ..p },
            Style { stringify: Stringify::TopLevelOnly, ..p },
            Style { numbers: NumberStyle::FloatJava, ..p },
            Style { numbers: NumberStyle::Literal, ..p },
            Style { empties: Empties::KeepStrings, ..p },
            Style { empties: Empties::KeepArrays, ..p },
            Style { empties: Empties::DropEmptied, ..p },
            Style { separators: Separators::PythonDefault, ..p },
        ];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..3000 {
            let mut text = String::new();
            random_json(&mut seed, 0, &mut text);
            let value = parse(text.as_bytes(), Limits::default()).expect(&text);
            for style in styles {
                let from_text = canonical_json_of_text(text.as_bytes(), Limits::default(), style).unwrap();
                match value {
                    Value::Object(_) | Value::Array(_) => {
                        assert_eq!(
                            from_text.as_deref(),
                            Some(&*canonical_json_with_style(&value, style)),
                            "{text} {style:?}"
                        )
                    }
                    _ => assert_eq!(from_text, None, "{text}"),
                }
                // And as the data of a sign text, where an empty array is null.
                let fields = vec![("appId".into(), Value::String("A".into()))];
                let mut with_data = fields.clone();
                with_data.push(("data".into(), value.clone()));
                if let Some(t) =
                    sign_text_of_json_data(&fields, text.as_bytes(), Limits::default(), "K", style).unwrap()
                {
                    assert_eq!(t, super::super::sign_text_with_style(&with_data, "K", style), "{text} {style:?}");
                }
            }
        }
    }

    #[test]
    fn objects_with_the_same_keys_share_a_sort_and_others_do_not() {
        let text = r#"[{"k\"":1,"a":2},{},{"b":1,"a":2},{"b":3,"a":4},{"a":5,"b":6},{"b":7},{"b":8,"a":null}]"#;
        let value = parse(text.as_bytes(), Limits::default()).unwrap();
        let from_text = canonical_json_of_text(text.as_bytes(), Limits::default(), Style::PROTOCOL).unwrap();
        assert_eq!(from_text.as_deref(), Some(&*super::super::canonical_json(&value, KeyOrder::Ordinal)));
        assert_eq!(
            from_text.unwrap(),
            r#"[{"a":"2","k\"":"1"},{},{"a":"2","b":"1"},{"a":"4","b":"3"},{"a":"5","b":"6"},{"b":"7"},{"b":"8"}]"#
        );
    }

    #[test]
    fn canonical_json_from_text_has_the_parse_errors() {
        for bad in [&b"{\"a\":1,\"a\":2}"[..], b"[1,]", b"{\"a\":\"\xff\"}", b"[[[[1]]]]"] {
            let limits = Limits { max_depth: 3, ..Limits::default() };
            assert_eq!(
                canonical_json_of_text(bad, limits, Style::PROTOCOL).unwrap_err(),
                parse(bad, limits).unwrap_err()
            );
        }
    }

    #[test]
    fn sign_text_of_json_data_equals_sign_text() {
        let env = r#"{"appId":"A","data":{"b":[{"y":1,"x":null}],"a":"1","e":{}},"encType":"SM4","timestamp":"1","signData":"s"}"#;
        let fields: Vec<(Text, Value)> = match parse(env.as_bytes(), Limits::default()).unwrap() {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        let others: Vec<(Text, Value)> = fields.iter().filter(|(k, _)| k != "data").cloned().collect();
        let data = br#"{"b":[{"y":1,"x":null}],"a":"1","e":{}}"#;
        assert_eq!(
            sign_text_of_json_data(&others, data, Limits::default(), "K", Style::PROTOCOL).unwrap(),
            Some(sign_text(&fields, "K", KeyOrder::Ordinal))
        );
        // A scalar data is left to the parsed route; bad JSON is the parse's error.
        assert_eq!(sign_text_of_json_data(&others, b"\"x\"", Limits::default(), "K", Style::PROTOCOL), Ok(None));
        assert_eq!(
            sign_text_of_json_data(&others, b"[1,", Limits::default(), "K", Style::PROTOCOL).unwrap_err(),
            parse(b"[1,", Limits::default()).unwrap_err()
        );
        // An empty array as the data is null, as on the parsed route.
        let t = sign_text_of_json_data(&others, b"[]", Limits::default(), "K", Style::PROTOCOL).unwrap();
        assert_eq!(t.as_deref(), Some("appId=A&encType=SM4&timestamp=1&key=K"));
    }
}
