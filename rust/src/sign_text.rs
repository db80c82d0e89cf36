//! The sign text: the exact string SM2 signs (PROTOCOL.md §2).
//!
//! Every rule of §2 lives here: which top-level fields take part, how each value is
//! rendered, the canonical JSON of nested values, and the key order. The variants seen in
//! other ports are here too, as [`Style`] settings, so that `diagnose` can rebuild a peer's
//! text with the same code; the default style is the protocol's.

use crate::json::{self, write_string, Abort, JsonError, Limits, Text, Value};
use std::cmp::Ordering;

/// Top-level fields that never take part in the sign text.
pub const EXCLUDED_FIELDS: [&str; 3] = ["signData", "encData", "extra"];

/// How object keys are sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyOrder {
    /// Ordinal (byte) order: the spec's "ASCII order". The default.
    #[default]
    Ordinal,
    /// Java's `String.CASE_INSENSITIVE_ORDER`, used by one copy of the center's SDK for
    /// nested keys (`feedetailList` before `feeType`).
    CaseInsensitive,
}

impl KeyOrder {
    /// Parse `"ordinal"` or `"case_insensitive"`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "ordinal" => Some(KeyOrder::Ordinal),
            "case_insensitive" => Some(KeyOrder::CaseInsensitive),
            _ => None,
        }
    }

    /// The name [`KeyOrder::from_name`] reads.
    pub fn name(self) -> &'static str {
        match self {
            KeyOrder::Ordinal => "ordinal",
            KeyOrder::CaseInsensitive => "case_insensitive",
        }
    }

    /// Compare two keys in this order (ties broken ordinally, so the order is total).
    pub fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            KeyOrder::Ordinal => a.as_bytes().cmp(b.as_bytes()),
            KeyOrder::CaseInsensitive => {
                let fold = |c: char| c.to_uppercase().flat_map(char::to_lowercase);
                a.chars()
                    .flat_map(fold)
                    .cmp(b.chars().flat_map(fold))
                    .then_with(|| a.as_bytes().cmp(b.as_bytes()))
            }
        }
    }
}

/// How numbers are written in the sign text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberStyle {
    /// The JSON literal exactly as written. The protocol's rule.
    Literal,
    /// Through a double, as JavaScript prints it (`100.00` -> `100`).
    FloatJs,
    /// Through a double, as Java prints it (`100.00` -> `100.0`).
    FloatJava,
}

/// Which scalars inside nested values become JSON strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stringify {
    /// Every scalar at any depth. The protocol's rule.
    All,
    /// Only the direct scalar members of a top-level object (a JS front end's port).
    TopLevelOnly,
    /// None: numbers and booleans stay JSON numbers and booleans.
    None,
}

/// A way of building the sign text. [`Style::PROTOCOL`] is the protocol's; the others
/// reproduce bugs seen in other ports, for diagnosis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Key order, applied to nested objects (top-level keys are always ordinal, as the spec
    /// says; the standard top-level fields sort the same either way).
    pub key_order: KeyOrder,
    /// How numbers are rendered.
    pub numbers: NumberStyle,
    /// Which nested scalars are stringified.
    pub stringify: Stringify,
    /// Keep empty strings and empty objects/arrays instead of dropping them.
    pub keep_empty: bool,
}

impl Style {
    /// The protocol's rules, ordinal key order.
    pub const PROTOCOL: Style = Style {
        key_order: KeyOrder::Ordinal,
        numbers: NumberStyle::Literal,
        stringify: Stringify::All,
        keep_empty: false,
    };

    /// The protocol's rules with the given key order.
    pub fn with_order(key_order: KeyOrder) -> Style {
        Style { key_order, ..Style::PROTOCOL }
    }
}

impl Default for Style {
    fn default() -> Self {
        Style::PROTOCOL
    }
}

/// The sign text of an envelope's fields (with the plaintext `data`), protocol style.
///
/// ```
/// use medpay_core::json::Value;
/// use medpay_core::sign_text::{sign_text, KeyOrder};
/// let fields = vec![
///     ("version".into(), Value::String("2.0.1".into())),
///     ("appId".into(), Value::String("A1".into())),
///     ("data".into(), Value::Object(vec![("n".into(), Value::Number("1.50".into()))])),
/// ];
/// assert_eq!(
///     sign_text(&fields, "S", KeyOrder::Ordinal),
///     r#"appId=A1&data={"n":"1.50"}&version=2.0.1&key=S"#
/// );
/// ```
pub fn sign_text(fields: &[(Text, Value)], app_secret: &str, order: KeyOrder) -> String {
    sign_text_with_style(fields, app_secret, Style::with_order(order))
}

/// The sign text built with any [`Style`].
pub fn sign_text_with_style(fields: &[(Text, Value)], app_secret: &str, style: Style) -> String {
    top_level_text(fields.iter().map(|(k, v)| (k.as_str(), Field::Value(v))), app_secret, style, |_| {})
}

/// The sign text of a message whose `data` is JSON text, built without parsing the data
/// into a [`Value`]: its canonical JSON is written straight from the text into the sign
/// text ([`canonical_json_of_text`]); `fields` are the other top-level fields. `None` when
/// the data is a scalar (or over 512 MiB): use the parsed route.
///
/// ```
/// use medpay_core::json::{Limits, Value};
/// use medpay_core::sign_text::{sign_text_of_json_data, Style};
/// let fields = vec![("appId".into(), Value::String("A1".into()))];
/// let text = sign_text_of_json_data(&fields, br#"{"n":1.50}"#, Limits::default(), "S", Style::PROTOCOL);
/// assert_eq!(text.unwrap().as_deref(), Some(r#"appId=A1&data={"n":"1.50"}&key=S"#));
/// ```
pub fn sign_text_of_json_data(
    fields: &[(Text, Value)],
    data: &[u8],
    limits: Limits,
    app_secret: &str,
    style: Style,
) -> Result<Option<String>, JsonError> {
    let mut outcome = Ok(true);
    let others = fields.iter().filter(|(k, _)| k != "data").map(|(k, v)| (k.as_str(), Field::Value(v)));
    let text = top_level_text(others.chain(std::iter::once(("data", Field::JsonText))), app_secret, style, |out| {
        outcome = canonical_json_into(out, data, limits, style);
    });
    Ok(outcome?.then_some(text))
}

/// A top-level field's value: parsed, or the data's JSON text (written by the caller).
enum Field<'v> {
    Value(&'v Value),
    JsonText,
}

/// `key=value&...&key=<appSecret>` over the fields that take part (PROTOCOL.md §2);
/// `json_text` writes the value of the `JsonText` field.
fn top_level_text<'v>(
    fields: impl Iterator<Item = (&'v str, Field<'v>)>,
    app_secret: &str,
    style: Style,
    mut json_text: impl FnMut(&mut String),
) -> String {
    let mut kept: Vec<(&str, Field<'_>)> = fields
        .filter(|(k, v)| {
            !EXCLUDED_FIELDS.contains(k)
                && match v {
                    Field::Value(v) => {
                        !matches!(v, Value::Null) && (style.keep_empty || !matches!(v, Value::String(s) if s.is_empty()))
                    }
                    Field::JsonText => true,
                }
        })
        .collect();
    kept.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::with_capacity(4096);
    for (k, v) in kept {
        out.push_str(k);
        out.push('=');
        match v {
            Field::JsonText => json_text(&mut out),
            Field::Value(Value::String(s)) => out.push_str(s),
            Field::Value(Value::Number(n)) => push_number(&mut out, n, style.numbers),
            Field::Value(Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
            Field::Value(Value::Null) => {}
            Field::Value(v @ (Value::Array(_) | Value::Object(_))) => canonical_into(&mut out, v, style, 0),
        }
        out.push('&');
    }
    out.push_str("key=");
    out.push_str(app_secret);
    out
}

/// The canonical JSON of a nested value (protocol style): keys sorted, null, `""` and
/// empty members dropped, every scalar a string.
pub fn canonical_json(v: &Value, order: KeyOrder) -> String {
    let mut out = String::new();
    canonical_into(&mut out, v, Style::with_order(order), 0);
    out
}

fn push_number(out: &mut String, lit: &str, style: NumberStyle) {
    match style {
        NumberStyle::Literal => out.push_str(lit),
        NumberStyle::FloatJs | NumberStyle::FloatJava => match lit.parse::<f64>() {
            Ok(f) if f.is_finite() => {
                let s = format!("{f}");
                out.push_str(&s);
                if style == NumberStyle::FloatJava && !s.contains(['.', 'e', 'E']) {
                    out.push_str(".0");
                }
            }
            _ => out.push_str(lit),
        },
    }
}

/// A scalar, as the canonical JSON sees it.
#[derive(Clone, Copy)]
enum Scalar<'s> {
    Null,
    Bool(bool),
    Number(&'s str),
    String(&'s str),
}

/// Whether a value is left out of the canonical JSON as an object member, and as an
/// array element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Drops {
    member: bool,
    element: bool,
}

impl Style {
    /// Whether a scalar `depth` containers down becomes a JSON string.
    fn stringifies(self, depth: usize) -> bool {
        match self.stringify {
            Stringify::All => true,
            Stringify::TopLevelOnly => depth == 1,
            Stringify::None => false,
        }
    }

    /// Null is always left out, `""` unless empty values are kept (PROTOCOL §2).
    fn scalar_drops(self, s: Scalar<'_>) -> Drops {
        let gone = match s {
            Scalar::Null => true,
            Scalar::String(s) => s.is_empty() && !self.keep_empty,
            _ => false,
        };
        Drops {
            member: gone,
            element: gone,
        }
    }

    /// An array or object all of whose contents are left out says nothing, so it is left
    /// out as a member (an element keeps its place, as `{}` or `[]`).
    fn container_drops(self, all_contents_drop: bool) -> Drops {
        Drops {
            member: all_contents_drop && !self.keep_empty,
            element: false,
        }
    }
}

/// Append a scalar's canonical JSON.
fn scalar_into(out: &mut String, s: Scalar<'_>, style: Style, depth: usize) {
    let quoted = style.stringifies(depth);
    match s {
        Scalar::String(s) => write_string(out, s),
        // A number's text never needs escaping: quoting it is enough.
        Scalar::Number(n) => {
            if quoted {
                out.push('"');
            }
            push_number(out, n, style.numbers);
            if quoted {
                out.push('"');
            }
        }
        Scalar::Bool(b) => {
            let t = if b { "true" } else { "false" };
            if quoted {
                out.push('"');
                out.push_str(t);
                out.push('"');
            } else {
                out.push_str(t);
            }
        }
        Scalar::Null => out.push_str("null"),
    }
}

/// The positions of `keys` in sign-text order.
fn sign_text_order(keys: &[&str], order: KeyOrder) -> Vec<u32> {
    let mut positions: Vec<u32> = (0..keys.len() as u32).collect();
    match order {
        KeyOrder::Ordinal => {
            // Sort on the first 8 bytes of each key as one integer, comparing whole keys
            // only on a tie (the position breaks ties between equal keys, which a hand-built
            // Value may hold, so the order never depends on the sort algorithm).
            let prefix = |k: &str| {
                let b = k.as_bytes();
                let mut w = [0u8; 8];
                w[..b.len().min(8)].copy_from_slice(&b[..b.len().min(8)]);
                u64::from_be_bytes(w)
            };
            let mut keyed: Vec<(u64, u32)> = positions.iter().map(|&i| (prefix(keys[i as usize]), i)).collect();
            keyed.sort_unstable_by(|a, b| {
                a.0.cmp(&b.0)
                    .then_with(|| keys[a.1 as usize].as_bytes().cmp(keys[b.1 as usize].as_bytes()))
                    .then(a.1.cmp(&b.1))
            });
            positions = keyed.into_iter().map(|(_, i)| i).collect();
        }
        KeyOrder::CaseInsensitive => positions.sort_by(|&a, &b| order.compare(keys[a as usize], keys[b as usize])),
    }
    positions
}

/// Sorts object keys into sign-text order, remembering the last keys and their order:
/// the objects of one array (the fee lines of a 6201) usually have the same keys in the
/// same order, and then only the first is sorted.
struct KeySorter {
    order: KeyOrder,
    // The last keys, end to end, and where each ends.
    keys: String,
    ends: Vec<usize>,
    positions: Vec<u32>,
}

impl KeySorter {
    fn new(order: KeyOrder) -> Self {
        KeySorter {
            order,
            keys: String::new(),
            ends: Vec::new(),
            positions: Vec::new(),
        }
    }

    /// The positions of `keys` in sign-text order.
    fn sort<'k>(&mut self, keys: impl ExactSizeIterator<Item = &'k str> + Clone) -> &[u32] {
        let same = keys.len() == self.ends.len()
            && keys
                .clone()
                .zip(&self.ends)
                .scan(0, |start, (k, &end)| {
                    let last = &self.keys[*start..end];
                    *start = end;
                    Some(k == last)
                })
                .all(|same| same);
        if !same {
            let list: Vec<&str> = keys.clone().collect();
            self.positions = sign_text_order(&list, self.order);
            self.keys.clear();
            self.ends.clear();
            for k in keys {
                self.keys.push_str(k);
                self.ends.push(self.keys.len());
            }
        }
        &self.positions
    }
}

fn scalar_of(v: &Value) -> Option<Scalar<'_>> {
    Some(match v {
        Value::Null => Scalar::Null,
        Value::Bool(b) => Scalar::Bool(*b),
        Value::Number(n) => Scalar::Number(n),
        Value::String(s) => Scalar::String(s),
        Value::Array(_) | Value::Object(_) => return None,
    })
}

/// Whether `v` is left out as an object member.
fn drops_member(v: &Value, style: Style) -> bool {
    match v {
        Value::Array(items) => {
            style
                .container_drops(items.iter().all(|e| drops_element(e, style)))
                .member
        }
        Value::Object(members) => {
            style
                .container_drops(members.iter().all(|(_, m)| drops_member(m, style)))
                .member
        }
        _ => style.scalar_drops(scalar_of(v).unwrap_or(Scalar::Null)).member,
    }
}

/// Whether `v` is left out as an array element.
fn drops_element(v: &Value, style: Style) -> bool {
    match v {
        // Whether a container drops as an element does not depend on its contents.
        Value::Array(_) | Value::Object(_) => style.container_drops(true).element,
        _ => style.scalar_drops(scalar_of(v).unwrap_or(Scalar::Null)).element,
    }
}

/// `depth` is 0 for a top-level field's value, 1 for its members, and so on.
fn canonical_into(out: &mut String, v: &Value, style: Style, depth: usize) {
    canonical_sorted_into(out, v, style, depth, &mut KeySorter::new(style.key_order));
}

fn canonical_sorted_into(out: &mut String, v: &Value, style: Style, depth: usize, sorter: &mut KeySorter) {
    match v {
        Value::Object(members) => {
            out.push('{');
            let kept: Vec<&(Text, Value)> = members.iter().filter(|(_, m)| !drops_member(m, style)).collect();
            // Copied out: the members' own objects use the sorter too.
            let order = sorter.sort(kept.iter().map(|(k, _)| k.as_str())).to_vec();
            for (i, &at) in order.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let (k, m) = kept[at as usize];
                write_string(out, k);
                out.push(':');
                canonical_sorted_into(out, m, style, depth + 1, sorter);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, it) in items.iter().filter(|e| !drops_element(e, style)).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_sorted_into(out, it, style, depth + 1, sorter);
            }
            out.push(']');
        }
        _ => scalar_into(out, scalar_of(v).unwrap_or(Scalar::Null), style, depth),
    }
}

/// The canonical JSON of a JSON text's value, built straight from the text in one pass
/// (no [`Value`]): the same as [`canonical_json`] of the parsed value, under the same
/// limits and errors as [`json::parse`]. `None` when the value is a scalar, which a
/// top-level field renders raw, or the text is over 512 MiB (parse it instead).
///
/// ```
/// use medpay_core::json::Limits;
/// use medpay_core::sign_text::{canonical_json_of_text, Style};
/// let c = canonical_json_of_text(br#"{"b":[1,null],"a":""}"#, Limits::default(), Style::PROTOCOL);
/// assert_eq!(c.unwrap().as_deref(), Some(r#"{"b":["1"]}"#));
/// ```
pub fn canonical_json_of_text(text: &[u8], limits: Limits, style: Style) -> Result<Option<String>, JsonError> {
    let mut out = String::new();
    Ok(canonical_json_into(&mut out, text, limits, style)?.then_some(out))
}

/// Append the canonical JSON of a JSON text's value to `out`: whether it did (see
/// [`canonical_json_of_text`] for when it does not; `out` is then as it was).
fn canonical_json_into(out: &mut String, text: &[u8], limits: Limits, style: Style) -> Result<bool, JsonError> {
    if text.len() > limits.max_bytes {
        return Err(JsonError::TooLarge { size: text.len(), limit: limits.max_bytes });
    }
    let start = out.len();
    // Offsets into `out` must fit the 32 bits `Rendered` keeps (the canonical text is at
    // most about twice the JSON text).
    if text.len() > Rendered::MAX_TEXT || start > u32::MAX as usize / 2 {
        return Ok(false);
    }
    out.reserve(text.len() + text.len() / 8);
    let mut b = CanonicalBuilder {
        style,
        text: json::check_utf8(text)?,
        out: std::mem::take(out),
        scratch: String::new(),
        members: Vec::new(),
        items: Vec::new(),
        sorter: KeySorter::new(style.key_order),
    };
    let root = json::parse_with(text, limits, &mut b);
    *out = b.out;
    let container = root?.kind() == Rendered::CONTAINER;
    if !container {
        out.truncate(start);
    }
    Ok(container)
}

/// Builds the canonical JSON bottom-up, in one pass over the text. A scalar stays where
/// it is in the text until its container closes; a container, when it closes, writes its
/// canonical text (members sorted, values left out dropped) at the end of `out`, where it
/// replaces the texts of the containers inside it, which lie there side by side in order.
struct CanonicalBuilder<'a> {
    style: Style,
    text: &'a str,
    out: String,
    scratch: String,
    // The kept members of the object closing: key, value and where the value's text ends
    // in `out` (for one there).
    members: Vec<(json::Key<'a>, Rendered, usize)>,
    // The same for the kept items of an array.
    items: Vec<(Rendered, usize)>,
    sorter: KeySorter,
}

/// A built value in one word, so that the parser moves it in a register: the kind in the
/// top 3 bits; for a string or number, its offset (low 32 bits) and length (the 29 bits
/// between) in the text; for a container or an escaped string, where its canonical text
/// starts in `out` (it ends where the next such value's starts), and for a container
/// whether it drops as a member.
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
    const DROPS_AS_MEMBER: u64 = 1 << 32;
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

    /// Whether `r` is left out as a member and as an element.
    fn drops(&self, r: Rendered) -> Drops {
        let style = self.style;
        match r.kind() {
            Rendered::CONTAINER => Drops {
                member: r.0 & Rendered::DROPS_AS_MEMBER != 0,
                element: style.container_drops(true).element,
            },
            Rendered::STRING => style.scalar_drops(Scalar::String(self.source(r))),
            Rendered::NULL => style.scalar_drops(Scalar::Null),
            // Escaped strings are never empty, and numbers and booleans never drop.
            _ => Drops {
                member: false,
                element: false,
            },
        }
    }

    /// Append a member's or element's canonical text (`depth` is its own; `end` is where
    /// its text ends in `out`, for one there) to `to`.
    fn put(&self, to: &mut String, r: Rendered, end: usize, depth: usize) {
        match r.kind() {
            Rendered::CONTAINER | Rendered::ESCAPED => to.push_str(&self.out[r.offset()..end]),
            Rendered::STRING => push_plain_string(to, self.source(r)),
            Rendered::NUMBER => scalar_into(to, Scalar::Number(self.source(r)), self.style, depth),
            Rendered::TRUE => scalar_into(to, Scalar::Bool(true), self.style, depth),
            Rendered::FALSE => scalar_into(to, Scalar::Bool(false), self.style, depth),
            _ => scalar_into(to, Scalar::Null, self.style, depth),
        }
    }

    /// Where each value's text ends in `out`, for the values of one container in document
    /// order: the next such value's start, or the end of `out`. Calls `keep` with each
    /// value and its end; returns where the first value in `out` starts.
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
    fn close(&mut self, start: usize, all_contents_drop: bool, write: impl FnOnce(&Self, &mut String)) -> Rendered {
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
        let drops = self.style.container_drops(all_contents_drop).member;
        Rendered(Rendered::CONTAINER << 61 | if drops { Rendered::DROPS_AS_MEMBER } else { 0 } | start as u64)
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
    fn decoded_string(&mut self, s: String, depth: usize) -> Result<Rendered, Abort> {
        let start = self.out.len();
        scalar_into(&mut self.out, Scalar::String(&s), self.style, depth);
        Ok(Rendered::span(Rendered::ESCAPED, start, 0))
    }

    fn array(&mut self, items: std::vec::Drain<'_, Rendered>, depth: usize) -> Result<Rendered, Abort> {
        let mut kept = std::mem::take(&mut self.items);
        kept.clear();
        let start = self.walk(items.map(|r| ((), r)), |(), r, end| {
            if !self.drops(r).element {
                kept.push((r, end));
            }
        });
        kept.reverse();
        let built = self.close(start, kept.is_empty(), |b, to| {
            to.push('[');
            for (i, &(r, end)) in kept.iter().enumerate() {
                if i > 0 {
                    to.push(',');
                }
                b.put(to, r, end, depth + 1);
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
        let mut kept = std::mem::take(&mut self.members);
        kept.clear();
        let start = self.walk(members, |k, r, end| {
            if !self.drops(r).member {
                kept.push((k, r, end));
            }
        });
        kept.reverse();
        self.sorter.sort(kept.iter().map(|(k, _, _)| &**k));
        // Taken out for the closure, which reads the builder, and put back below.
        let order = std::mem::take(&mut self.sorter.positions);
        let built = self.close(start, order.is_empty(), |b, to| {
            to.push('{');
            for (i, &at) in order.iter().enumerate() {
                if i > 0 {
                    to.push(',');
                }
                let (k, r, end) = &kept[at as usize];
                match k {
                    json::Key::Borrowed(k) => push_plain_string(to, k),
                    json::Key::Owned(k) => write_string(to, k),
                }
                to.push(':');
                b.put(to, *r, *end, depth + 1);
            }
            to.push('}');
        });
        self.sorter.positions = order;
        self.members = kept;
        Ok(built)
    }
}

/// A string known to need no escaping ([`json::Builder::string`]), quoted.
fn push_plain_string(out: &mut String, s: &str) {
    out.push('"');
    out.push_str(s);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::{parse, Limits};

    fn obj(s: &str) -> Vec<(Text, Value)> {
        match parse(s.as_bytes(), Limits::default()).unwrap() {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    fn text(s: &str) -> String {
        sign_text(&obj(s), "SECRET", KeyOrder::Ordinal)
    }

    /// The real 6301 request of PROTOCOL.md §2, which the center accepted.
    #[test]
    fn protocol_example_6301() {
        let env = r#"{"appId":"1H452H9AR0LO3F60C80A000054C771C6","data":{"userName":"张三","payToken":"150000ecb2gfdlm0tg0100007f00004a27f622","payOrdId":"ord150100202210140931280000007","orgCodg":"H15020400121","idType":"01","idNo":"150204198912131512"},"encType":"SM4","signType":"SM2","timestamp":"1692977670450","version":"2.0.1","signData":"x","encData":"y"}"#;
        assert_eq!(
            sign_text(&obj(env), "1H452H9B30LP3F60C80A0000AB8B7385", KeyOrder::Ordinal),
            r#"appId=1H452H9AR0LO3F60C80A000054C771C6&data={"idNo":"150204198912131512","idType":"01","orgCodg":"H15020400121","payOrdId":"ord150100202210140931280000007","payToken":"150000ecb2gfdlm0tg0100007f00004a27f622","userName":"张三"}&encType=SM4&signType=SM2&timestamp=1692977670450&version=2.0.1&key=1H452H9B30LP3F60C80A0000AB8B7385"#
        );
    }

    #[test]
    fn excluded_fields_and_empty_top_level_values_are_left_out() {
        assert_eq!(
            text(r#"{"signData":"s","encData":"e","extra":"x","a":"","b":null,"c":"1"}"#),
            "c=1&key=SECRET"
        );
    }

    #[test]
    fn top_level_scalars_render_raw() {
        assert_eq!(
            text(r#"{"s":"a b\"c","n":100.00,"t":true,"f":false,"i":0}"#),
            r#"f=false&i=0&n=100.00&s=a b"c&t=true&key=SECRET"#
        );
    }

    #[test]
    fn nested_scalars_become_strings_of_their_literal() {
        assert_eq!(
            text(r#"{"data":{"a":2,"b":100.00,"c":true,"d":-1.5e3}}"#),
            r#"data={"a":"2","b":"100.00","c":"true","d":"-1.5e3"}&key=SECRET"#
        );
    }

    #[test]
    fn nested_members_null_empty_string_and_empty_array_are_dropped() {
        assert_eq!(
            text(r#"{"data":{"a":null,"b":"","c":[],"d":"x","e":[null,""],"f":{}}}"#),
            r#"data={"d":"x"}&key=SECRET"#
        );
    }

    #[test]
    fn arrays_keep_order_and_drop_null_and_empty_string_elements() {
        assert_eq!(
            text(r#"{"data":{"l":[3,null,"",1,{"z":1,"a":null}]}}"#),
            r#"data={"l":["3","1",{"z":"1"}]}&key=SECRET"#
        );
    }

    #[test]
    fn nested_keys_sort_ordinally_by_default_and_case_insensitively_on_request() {
        let f = obj(r#"{"data":{"feedetailList":[{"b":1}],"feeType":"1","Z":"z"}}"#);
        assert_eq!(
            sign_text(&f, "K", KeyOrder::Ordinal),
            r#"data={"Z":"z","feeType":"1","feedetailList":[{"b":"1"}]}&key=K"#
        );
        assert_eq!(
            sign_text(&f, "K", KeyOrder::CaseInsensitive),
            r#"data={"feedetailList":[{"b":"1"}],"feeType":"1","Z":"z"}&key=K"#
        );
    }

    #[test]
    fn top_level_keys_sort_by_bytes() {
        assert_eq!(text(r#"{"b":"1","B":"2","a":"3"}"#), "B=2&a=3&b=1&key=SECRET");
    }

    #[test]
    fn canonical_json_escapes_and_keeps_non_ascii_raw() {
        assert_eq!(
            canonical_json(&parse("{\"k\":\"张\\\"\\\\\\n\\u0002\"}".as_bytes(), Limits::default()).unwrap(), KeyOrder::Ordinal),
            "{\"k\":\"张\\\"\\\\\\n\\u0002\"}"
        );
    }

    #[test]
    fn styles_reproduce_other_ports() {
        let f = obj(r#"{"data":{"a":100.00,"n":{"x":1},"e":""}}"#);
        let s = |st| sign_text_with_style(&f, "K", st);
        assert_eq!(s(Style { stringify: Stringify::None, ..Style::PROTOCOL }), r#"data={"a":100.00,"n":{"x":1}}&key=K"#);
        assert_eq!(s(Style { stringify: Stringify::TopLevelOnly, ..Style::PROTOCOL }), r#"data={"a":"100.00","n":{"x":1}}&key=K"#);
        assert_eq!(s(Style { numbers: NumberStyle::FloatJava, ..Style::PROTOCOL }), r#"data={"a":"100.0","n":{"x":"1.0"}}&key=K"#);
        assert_eq!(s(Style { numbers: NumberStyle::FloatJs, ..Style::PROTOCOL }), r#"data={"a":"100","n":{"x":"1"}}&key=K"#);
        assert_eq!(s(Style { keep_empty: true, ..Style::PROTOCOL }), r#"data={"a":"100.00","e":"","n":{"x":"1"}}&key=K"#);
    }

    #[test]
    fn case_insensitive_order_is_total() {
        let o = KeyOrder::CaseInsensitive;
        assert_eq!(o.compare("a", "B"), Ordering::Less);
        assert_eq!(o.compare("A", "a"), Ordering::Less);
        assert_eq!(o.compare("a", "a"), Ordering::Equal);
    }

    /// A random JSON text: nested objects and arrays with keys that collide by case and
    /// share prefixes, escapes, empty strings, nulls, booleans and number literals.
    fn random_json(seed: &mut u64, depth: usize, out: &mut String) {
        fn next(seed: &mut u64, n: u64) -> u64 {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            *seed % n
        }
        const KEYS: [&str; 10] = [
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
        ];
        const SCALARS: [&str; 12] = [
            "null",
            "true",
            "false",
            "0",
            "-1.50e3",
            "100.00",
            r#""""#,
            r#""x""#,
            r#""张三""#,
            r#""a\nb\u0001""#,
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
        let styles = [
            Style::PROTOCOL,
            Style::with_order(KeyOrder::CaseInsensitive),
            Style {
                stringify: Stringify::None,
                ..Style::PROTOCOL
            },
            Style {
                stringify: Stringify::TopLevelOnly,
                ..Style::PROTOCOL
            },
            Style {
                numbers: NumberStyle::FloatJava,
                ..Style::PROTOCOL
            },
            Style {
                keep_empty: true,
                ..Style::PROTOCOL
            },
        ];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..3000 {
            let mut text = String::new();
            random_json(&mut seed, 0, &mut text);
            let value = parse(text.as_bytes(), Limits::default()).expect(&text);
            for style in styles {
                let from_text = canonical_json_of_text(text.as_bytes(), Limits::default(), style).unwrap();
                let mut from_value = String::new();
                canonical_into(&mut from_value, &value, style, 0);
                match value {
                    Value::Object(_) | Value::Array(_) => {
                        assert_eq!(from_text.as_deref(), Some(&*from_value), "{text} {style:?}")
                    }
                    _ => assert_eq!(from_text, None, "{text}"),
                }
            }
        }
    }

    #[test]
    fn objects_with_the_same_keys_share_a_sort_and_others_do_not() {
        let text = r#"[{"k\"":1,"a":2},{},{"b":1,"a":2},{"b":3,"a":4},{"a":5,"b":6},{"b":7},{"b":8,"a":null}]"#;
        let value = parse(text.as_bytes(), Limits::default()).unwrap();
        let from_text = canonical_json_of_text(text.as_bytes(), Limits::default(), Style::PROTOCOL).unwrap();
        assert_eq!(from_text.as_deref(), Some(&*canonical_json(&value, KeyOrder::Ordinal)));
        assert_eq!(
            from_text.unwrap(),
            r#"[{"a":"2","k\"":"1"},{},{"a":"2","b":"1"},{"a":"4","b":"3"},{"a":"5","b":"6"},{"b":"7"},{"b":"8"}]"#
        );
    }

    #[test]
    fn canonical_json_from_text_has_the_parse_errors() {
        for bad in [&b"{\"a\":1,\"a\":2}"[..], b"[1,]", b"{\"a\":\"\xff\"}", b"[[[[1]]]]"] {
            let limits = Limits {
                max_depth: 3,
                ..Limits::default()
            };
            assert_eq!(
                canonical_json_of_text(bad, limits, Style::PROTOCOL).unwrap_err(),
                parse(bad, limits).unwrap_err()
            );
        }
    }

    #[test]
    fn sign_text_of_json_data_equals_sign_text() {
        let env = r#"{"appId":"A","data":{"b":[{"y":1,"x":null}],"a":"1"},"encType":"SM4","timestamp":"1","signData":"s"}"#;
        let fields = obj(env);
        let others: Vec<(Text, Value)> = fields.iter().filter(|(k, _)| k != "data").cloned().collect();
        let data = br#"{"b":[{"y":1,"x":null}],"a":"1"}"#;
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
    }
}
