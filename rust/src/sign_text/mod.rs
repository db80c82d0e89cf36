//! The sign text: the exact string SM2 signs, as the center's Java SDK builds it
//! (docs/protocol.md, "The sign text").
//!
//! Every rule lives here once: which top-level fields take part and how each is rendered
//! and sorted ([this module](self)), what the canonical JSON of a nested value keeps, drops
//! and stringifies ([`Style`]'s rule methods, used by both routes below), how numbers and
//! keys are treated ([`java`]) and how strings are escaped ([`escape`]).
//!
//! The canonical JSON is built by two routes with one set of rules: from a parsed [`Value`]
//! ([`canonical`]) and straight from JSON text without a tree ([`from_text`]), which the
//! tests hold equal. The variants seen in other ports are [`Style`] settings too, so that
//! `diagnose` rebuilds a peer's text with the same code; [`Style::PROTOCOL`] is the SDK's.

pub mod canonical;
pub mod escape;
pub mod from_text;
pub mod java;
mod sort;

use crate::json::{JsonError, Limits, Text, Value};
pub use canonical::{canonical_json, canonical_json_with_style, unsignable_path};
pub use escape::Escapes;
pub use from_text::canonical_json_of_text;
use std::cmp::Ordering;

/// Top-level fields that never take part in the sign text.
pub const EXCLUDED_FIELDS: [&str; 3] = ["signData", "encData", "extra"];

/// How the keys of nested objects are sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyOrder {
    /// Java's `String.compareTo` (UTF-16 code units; byte order for ASCII): the SDK's
    /// `TreeMap`. The default.
    #[default]
    Ordinal,
    /// Java's `String.CASE_INSENSITIVE_ORDER`, used by one public port for nested keys
    /// (`feedetailList` before `feeType`).
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

    /// The other order, for a verifier that accepts either.
    pub fn other(self) -> KeyOrder {
        match self {
            KeyOrder::Ordinal => KeyOrder::CaseInsensitive,
            KeyOrder::CaseInsensitive => KeyOrder::Ordinal,
        }
    }

    /// Compare two keys in this order (total: case-insensitive ties are broken ordinally).
    pub fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            KeyOrder::Ordinal => java::compare_ordinal(a, b),
            KeyOrder::CaseInsensitive => java::compare_case_insensitive(a, b),
        }
    }
}

/// How numbers are written in the sign text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberStyle {
    /// Java's `BigDecimal.toString()` of the literal ([`java::decimal_text`]). The SDK's.
    Java,
    /// The JSON literal exactly as written (medpay before 0.2; differs only for exponents
    /// and negative zero).
    Literal,
    /// Through a double, as JavaScript prints it (`100.00` -> `100`).
    FloatJs,
    /// Through a double, as Java prints it (`100.00` -> `100.0`).
    FloatJava,
}

/// Which scalars inside nested values become JSON strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stringify {
    /// Every scalar at any depth. The SDK's.
    All,
    /// Only the direct scalar members of a top-level object (a JS front end's port).
    TopLevelOnly,
    /// None: numbers and booleans stay JSON numbers and booleans.
    None,
}

/// What the canonical JSON does with empty values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Empties {
    /// The SDK's: null, `""` and empty-array members dropped; objects always kept; an
    /// empty array element becomes `null`; a trailing `""` element dropped.
    Sdk,
    /// The SDK's, but `""` kept wherever it stands.
    KeepStrings,
    /// The SDK's, but empty arrays kept as `[]`.
    KeepArrays,
    /// medpay before 0.2: null and `""` elements dropped, and members dropped when they
    /// are empty once their own contents are dropped (objects included).
    DropEmptied,
}

/// How the parts of the canonical JSON are separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Separators {
    /// `,` and `:`. The SDK's.
    Compact,
    /// Python `json.dumps`'s defaults, `, ` and `: `.
    PythonDefault,
}

/// A way of building the sign text. [`Style::PROTOCOL`] is the SDK's; the others
/// reproduce other ports, for verification ([`Style::verifying`]) and diagnosis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Key order of nested objects (the top-level entries are always sorted the SDK's way).
    pub key_order: KeyOrder,
    /// How numbers are rendered.
    pub numbers: NumberStyle,
    /// Which nested scalars are stringified.
    pub stringify: Stringify,
    /// What happens to empty values.
    pub empties: Empties,
    /// How strings are escaped.
    pub escapes: Escapes,
    /// Separators of the canonical JSON.
    pub separators: Separators,
}

impl Style {
    /// The SDK's rules.
    pub const PROTOCOL: Style = Style {
        key_order: KeyOrder::Ordinal,
        numbers: NumberStyle::Java,
        stringify: Stringify::All,
        empties: Empties::Sdk,
        escapes: Escapes::Fastjson1,
        separators: Separators::Compact,
    };

    /// The SDK's rules with the given nested key order.
    pub fn with_order(key_order: KeyOrder) -> Style {
        Style { key_order, ..Style::PROTOCOL }
    }

    /// The texts a verifier accepts, the signer's own (`order`, fastjson 1.x escaping)
    /// first: the other key order and the other escaping (both are fixed functions of the
    /// same content, so accepting them admits no forgery).
    pub fn verifying(order: KeyOrder) -> [Style; 4] {
        let own = Style::with_order(order);
        let other_escapes = Style { escapes: own.escapes.other(), ..own };
        [own, Style::with_order(order.other()), other_escapes, Style { key_order: order.other(), ..other_escapes }]
    }
}

impl Default for Style {
    fn default() -> Self {
        Style::PROTOCOL
    }
}

/// What a nested value is, as far as the rules for empty values care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Null,
    EmptyString,
    /// A non-empty string, a number or a boolean.
    Scalar,
    /// An array with no elements in the input.
    EmptyArray,
    /// An array with elements, or an object; `emptied` when nothing of its contents is
    /// kept (only [`Empties::DropEmptied`] asks).
    Container {
        emptied: bool,
    },
}

/// What an array does with one element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Element {
    /// Written as canonical JSON.
    Write,
    /// Written as `null` (an empty array).
    Null,
    /// Left out.
    Drop,
    /// The SDK throws here (a null element; an `""` followed by an element that is not
    /// `""`). Left out, so that receiving stays lenient; `pack` refuses it.
    Unsignable,
}

impl Style {
    /// Whether an object member of this shape is left out.
    pub(crate) fn drops_member(self, shape: Shape) -> bool {
        match (shape, self.empties) {
            (Shape::Null, _) => true,
            (Shape::EmptyString, e) => e != Empties::KeepStrings,
            (Shape::EmptyArray, e) => e != Empties::KeepArrays,
            (Shape::Container { emptied }, Empties::DropEmptied) => emptied,
            _ => false,
        }
    }

    /// What an array does with an element of this shape; `followed` tells whether an
    /// element other than `""` comes after it.
    pub(crate) fn element(self, shape: Shape, followed: bool) -> Element {
        match (shape, self.empties) {
            (Shape::Null, Empties::DropEmptied) => Element::Drop,
            (Shape::Null, _) => Element::Unsignable,
            (Shape::EmptyString, Empties::KeepStrings) => Element::Write,
            (Shape::EmptyString, Empties::DropEmptied) => Element::Drop,
            (Shape::EmptyString, _) if followed => Element::Unsignable,
            (Shape::EmptyString, _) => Element::Drop,
            (Shape::EmptyArray, Empties::Sdk | Empties::KeepStrings) => Element::Null,
            _ => Element::Write,
        }
    }

    /// Whether a scalar `depth` containers down becomes a JSON string.
    pub(crate) fn stringifies(self, depth: usize) -> bool {
        match self.stringify {
            Stringify::All => true,
            Stringify::TopLevelOnly => depth == 1,
            Stringify::None => false,
        }
    }

    /// Append the separator between members or elements.
    #[inline]
    pub(crate) fn push_comma(self, out: &mut String) {
        match self.separators {
            // A char, not a one-byte push_str: this runs for every value.
            Separators::Compact => out.push(','),
            Separators::PythonDefault => out.push_str(", "),
        }
    }

    /// Append the separator between a key and its value.
    #[inline]
    pub(crate) fn push_colon(self, out: &mut String) {
        match self.separators {
            Separators::Compact => out.push(':'),
            Separators::PythonDefault => out.push_str(": "),
        }
    }
}

/// For each element of an array given by shapes, whether an element other than `""`
/// comes after it: `followed(i)` is `i < last`, where `last` is the position of the
/// last such element.
pub(crate) fn last_solid(shapes: impl DoubleEndedIterator<Item = Shape> + ExactSizeIterator) -> Option<usize> {
    let n = shapes.len();
    shapes.rev().position(|s| s != Shape::EmptyString).map(|from_end| n - 1 - from_end)
}

/// Append a nested number: its text in the style, quoted where the style stringifies.
pub(crate) fn write_number(out: &mut String, lit: &str, style: Style, depth: usize) {
    // A number's text never needs escaping: quoting it is enough.
    let quoted = style.stringifies(depth);
    if quoted {
        out.push('"');
    }
    push_number(out, lit, style.numbers);
    if quoted {
        out.push('"');
    }
}

/// Append a nested boolean, quoted where the style stringifies.
pub(crate) fn write_bool(out: &mut String, b: bool, style: Style, depth: usize) {
    out.push_str(match (b, style.stringifies(depth)) {
        (true, true) => "\"true\"",
        (false, true) => "\"false\"",
        (true, false) => "true",
        (false, false) => "false",
    });
}

/// The text of a top-level field whose value is an empty array: the SDK makes it null,
/// written `null` (so the field is left out), as it does an empty array element.
pub(crate) fn empty_top_level_array(style: Style) -> &'static str {
    match style.element(Shape::EmptyArray, false) {
        Element::Null => "null",
        _ => "[]",
    }
}

/// Append a number in the given style.
pub(crate) fn push_number(out: &mut String, lit: &str, style: NumberStyle) {
    match style {
        NumberStyle::Java => out.push_str(&java::decimal_text(lit)),
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

/// The sign text of an envelope's fields (with the plaintext `data`), the SDK's rules
/// with the given nested key order.
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

/// Data the center's SDK cannot sign: it throws on it, and the center answers with an
/// error. `path` names the element (`feedetailList[3]`) inside the field `field`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsignable {
    /// The top-level field holding it (`data` for the message's data).
    pub field: String,
    /// Where in that field's value, e.g. `feedetailList[3]`.
    pub path: String,
}

impl std::fmt::Display for Unsignable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = match (self.field.as_str(), self.path.starts_with('[')) {
            ("data", _) => self.path.clone(),
            (field, true) => format!("{field}{}", self.path),
            (field, false) => format!("{field}.{}", self.path),
        };
        write!(
            f,
            "{at}: the center's SDK cannot sign an array with a null element or an empty string \
             followed by another element (it throws, and the center answers with an error); \
             leave the element out or give it a value"
        )
    }
}

/// The sign text of fields the center's SDK can verify, or where it cannot (see
/// [`Unsignable`]). What `pack` signs.
///
/// ```
/// use medpay_core::json::{parse, Limits, Value};
/// use medpay_core::sign_text::{signable_sign_text, KeyOrder};
/// let data = parse(br#"{"l":["x",null]}"#, Limits::default()).unwrap();
/// let err = signable_sign_text(&[("data".into(), data)], "S", KeyOrder::Ordinal).unwrap_err();
/// assert_eq!(err.path, "l[1]");
/// ```
pub fn signable_sign_text(fields: &[(Text, Value)], app_secret: &str, order: KeyOrder) -> Result<String, Unsignable> {
    let mut unsignable = false;
    let text = top_level_with(
        fields.iter().map(|(k, v)| (k.as_str(), Field::Value(v))),
        app_secret,
        Style::with_order(order),
        |_| {},
        &mut unsignable,
    );
    if !unsignable {
        return Ok(text);
    }
    for (k, v) in fields {
        if let Some(path) = unsignable_path(v) {
            return Err(Unsignable { field: k.to_string(), path });
        }
    }
    Ok(text)
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
        outcome = from_text::canonical_json_into(out, data, limits, style);
    });
    Ok(outcome?.then_some(text))
}

/// A top-level field's value: parsed, or the data's JSON text (written by the caller).
enum Field<'v> {
    Value(&'v Value),
    JsonText,
}

fn top_level_text<'v>(
    fields: impl Iterator<Item = (&'v str, Field<'v>)>,
    app_secret: &str,
    style: Style,
    json_text: impl FnMut(&mut String),
) -> String {
    top_level_with(fields, app_secret, style, json_text, &mut false)
}

/// `key=value&...&key=<appSecret>` over the fields that take part: null and `""` values
/// left out, each value rendered, then left out if its text is blank or `null`, the
/// `key=value&` entries sorted whole in Java's case-insensitive order. `json_text` writes
/// the value of the `JsonText` field; `unsignable` is set if a value holds data the SDK
/// throws on.
fn top_level_with<'v>(
    fields: impl Iterator<Item = (&'v str, Field<'v>)>,
    app_secret: &str,
    style: Style,
    mut json_text: impl FnMut(&mut String),
    unsignable: &mut bool,
) -> String {
    let mut kept: Vec<(&str, Field<'_>)> =
        fields.filter(|(k, v)| !EXCLUDED_FIELDS.contains(k) && !drops_before_rendering(v, style)).collect();
    // Sorted on `key=` alone: that decides the order of the whole entries unless a key
    // holds `=` or two keys are equal but for case; then the values decide, and the
    // entries are sorted whole once written.
    let eq = |k: &'v str| k.encode_utf16().chain(std::iter::once(u16::from(b'=')));
    kept.sort_by(|a, b| match java::compare_folded(eq(a.0), eq(b.0)) {
        java::Folded::Differ(o) | java::Folded::Prefix(o) => o,
        java::Folded::Equal => java::compare_ordinal(a.0, b.0),
    });
    let undecided = kept.iter().any(|(k, _)| k.contains('='))
        || kept.windows(2).any(|w| java::compare_folded(eq(w[0].0), eq(w[1].0)) == java::Folded::Equal);
    let mut out = String::with_capacity(4096);
    let mut entries: Vec<String> = Vec::new();
    for (k, v) in kept {
        let start = out.len();
        out.push_str(k);
        out.push('=');
        let value_at = out.len();
        match v {
            Field::JsonText => json_text(&mut out),
            Field::Value(Value::String(s)) => out.push_str(s),
            Field::Value(Value::Number(n)) => push_number(&mut out, n, style.numbers),
            Field::Value(Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
            Field::Value(Value::Null) => {}
            Field::Value(v @ (Value::Array(_) | Value::Object(_))) => {
                *unsignable |= canonical::write_top_level(&mut out, v, style)
            }
        }
        // Only the data's JSON text is not known to be kept before it is written (it may
        // be an empty array, which is `null`).
        if &out[value_at..] == "null" && style.empties != Empties::KeepStrings {
            out.truncate(start);
            continue;
        }
        out.push('&');
        if undecided {
            entries.push(out.split_off(start));
        }
    }
    if undecided {
        entries.sort_by(|a, b| java::compare_case_insensitive(a, b));
        out.extend(entries);
    }
    out.push_str("key=");
    out.push_str(app_secret);
    out
}

/// What stands for the appSecret wherever a sign text is shown ([`mask_secret`]).
pub const SECRET_MASK: &str = "********";

/// A sign text fit to show: the appSecret that ends it (`…&key=<appSecret>`) replaced by
/// [`SECRET_MASK`], its bytes wiped. A text that does not end with the secret is returned
/// as it is. Only the end is masked: that is where the text's own copy of the secret
/// stands, and a short secret (`"K"`) must not mangle the rest of the text.
///
/// ```
/// use medpay_core::sign_text::mask_secret;
/// assert_eq!(mask_secret("appId=A1&key=S3CRET".to_string(), "S3CRET"), "appId=A1&key=********");
/// ```
pub fn mask_secret(text: String, app_secret: &str) -> String {
    if app_secret.is_empty() || !text.ends_with(app_secret) {
        return text;
    }
    let keep = text.len() - app_secret.len();
    let mut bytes = text.into_bytes();
    zeroize::Zeroize::zeroize(&mut bytes[keep..]);
    bytes.truncate(keep);
    bytes.extend_from_slice(SECRET_MASK.as_bytes());
    // Cut where the secret began, a character boundary: still UTF-8.
    String::from_utf8(bytes).unwrap_or_default()
}

/// Whether a top-level field is left out whatever its place: null or `""`, or a value
/// whose text is blank (Java's `trim()`) or `null` (a string so, or an empty array).
fn drops_before_rendering(v: &Field<'_>, style: Style) -> bool {
    let keep_empty = style.empties == Empties::KeepStrings;
    match v {
        Field::JsonText => false,
        Field::Value(Value::Null) => true,
        Field::Value(Value::String(s)) => !keep_empty && (java::is_blank(s) || s == "null"),
        Field::Value(Value::Array(items)) => items.is_empty() && !keep_empty && empty_top_level_array(style) == "null",
        Field::Value(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::{parse, Limits};

    #[test]
    fn the_secret_at_the_end_of_a_sign_text_is_masked_and_only_there() {
        let text = sign_text(&obj(r#"{"appId":"KAPP","data":{"k":"K"}}"#), "K", KeyOrder::Ordinal);
        assert_eq!(text, r#"appId=KAPP&data={"k":"K"}&key=K"#);
        assert_eq!(mask_secret(text, "K"), format!(r#"appId=KAPP&data={{"k":"K"}}&key={SECRET_MASK}"#));
        let long = "4117E877F5FA0A0188891283E4B617D5";
        let shown = mask_secret(format!("a=张三&key={long}"), long);
        assert_eq!(shown, "a=张三&key=********");
        // Nothing to mask: the text is returned as it is.
        assert_eq!(mask_secret("a=1&key=OTHER".into(), long), "a=1&key=OTHER");
        assert_eq!(mask_secret("a=1&key=".into(), ""), "a=1&key=");
    }

    pub(crate) fn obj(s: &str) -> Vec<(Text, Value)> {
        match parse(s.as_bytes(), Limits::default()).unwrap() {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    fn text(s: &str) -> String {
        sign_text(&obj(s), "SECRET", KeyOrder::Ordinal)
    }

    /// The real 6301 request the center accepted (docs/protocol.md, first vector).
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
        assert_eq!(text(r#"{"signData":"s","encData":"e","extra":"x","a":"","b":null,"c":"1"}"#), "c=1&key=SECRET");
    }

    #[test]
    fn top_level_values_blank_or_null_once_rendered_are_left_out() {
        assert_eq!(
            text(r#"{"a":"  ","b":"null","c":"\t\n","d":[],"e":{},"f":"NULL","g":" x ","h":[[]]}"#),
            "e={}&f=NULL&g= x &h=[null]&key=SECRET"
        );
    }

    #[test]
    fn top_level_scalars_render_raw_numbers_as_java_does() {
        assert_eq!(
            text(r#"{"s":"a b\"c","n":100.00,"t":true,"f":false,"i":0,"x":1e2,"z":-0.00}"#),
            r#"f=false&i=0&n=100.00&s=a b"c&t=true&x=1E+2&z=0.00&key=SECRET"#
        );
    }

    #[test]
    fn top_level_entries_sort_whole_and_case_insensitively() {
        // `ext1=` sorts before `ext=` ('1' < '='), and case does not count.
        assert_eq!(text(r#"{"ext":"a","ext1":"b","B":"2","a":"3"}"#), "a=3&B=2&ext1=b&ext=a&key=SECRET");
        assert_eq!(text(r#"{"b":"1","B":"2"}"#), "b=1&B=2&key=SECRET");
    }

    #[test]
    fn entries_whose_keys_do_not_decide_are_sorted_whole() {
        // Keys equal but for case: the values decide ("a=1&" before "A=2&").
        assert_eq!(text(r#"{"A":"2","a":"1"}"#), "a=1&A=2&key=SECRET");
        assert_eq!(text(r#"{"A":"1","a":"2"}"#), "A=1&a=2&key=SECRET");
        // A key holding '=': "a=z&" sorts after "a=x=w&", and "a!=" before both.
        assert_eq!(text(r#"{"a":"z","a=x":"w","a!":"v"}"#), "a!=v&a=x=w&a=z&key=SECRET");
    }

    /// The rule as written (every entry rendered, then all sorted whole) against the
    /// code's shortcut (sorted on `key=`), on random top-level fields.
    #[test]
    fn top_level_order_is_the_whole_entry_order_for_any_keys() {
        const KEYS: [&str; 10] = ["a", "A", "a=x", "a!", "ext", "ext1", "B", "b", "é", "É"];
        const VALUES: [&str; 7] = ["z", "x=w", "1", "", " ", "null", "Z"];
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..2000 {
            let mut fields: Vec<(Text, Value)> = Vec::new();
            for _ in 0..next(6) {
                let k = KEYS[next(KEYS.len())];
                if !fields.iter().any(|(f, _)| f == k) {
                    fields.push((k.into(), Value::String(VALUES[next(VALUES.len())].into())));
                }
            }
            let mut entries: Vec<String> = fields
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k, v)))
                .filter(|(_, v)| !java::is_blank(v) && *v != "null")
                .map(|(k, v)| format!("{k}={v}&"))
                .collect();
            entries.sort_by(|a, b| java::compare_case_insensitive(a, b));
            let want = entries.concat() + "key=S";
            assert_eq!(sign_text(&fields, "S", KeyOrder::Ordinal), want, "{fields:?}");
        }
    }

    #[test]
    fn nested_scalars_become_strings_numbers_as_big_decimal() {
        assert_eq!(
            text(r#"{"data":{"a":2,"b":100.00,"c":true,"d":-1.5e3,"e":-0.00,"f":0.0000001,"g":-0}}"#),
            r#"data={"a":"2","b":"100.00","c":"true","d":"-1.5E+3","e":"0.00","f":"1E-7","g":"0"}&key=SECRET"#
        );
    }

    #[test]
    fn nested_objects_are_kept_even_when_empty_or_emptied() {
        assert_eq!(text(r#"{"data":{"a":{}}}"#), r#"data={"a":{}}&key=SECRET"#);
        assert_eq!(text(r#"{"data":{"a":{"b":null}}}"#), r#"data={"a":{}}&key=SECRET"#);
        assert_eq!(text(r#"{"data":{"a":{"b":{"c":""}}}}"#), r#"data={"a":{"b":{}}}&key=SECRET"#);
    }

    #[test]
    fn nested_members_null_empty_string_and_empty_array_are_dropped() {
        assert_eq!(
            text(r#"{"data":{"a":null,"b":"","c":[],"d":"x","e":" ","f":{}}}"#),
            r#"data={"d":"x","e":" ","f":{}}&key=SECRET"#
        );
    }

    #[test]
    fn arrays_keep_order_empty_array_elements_become_null_trailing_empty_strings_go() {
        assert_eq!(text(r#"{"data":{"a":[[],"x"]}}"#), r#"data={"a":[null,"x"]}&key=SECRET"#);
        assert_eq!(text(r#"{"data":{"a":[3,1,{"z":1,"a":null}]}}"#), r#"data={"a":["3","1",{"z":"1"}]}&key=SECRET"#);
        assert_eq!(text(r#"{"data":{"a":["x","",""]}}"#), r#"data={"a":["x"]}&key=SECRET"#);
        // An array emptied by that is kept: only arrays empty in the input are dropped.
        assert_eq!(text(r#"{"data":{"a":[""],"b":[[""]]}}"#), r#"data={"a":[],"b":[[]]}&key=SECRET"#);
    }

    #[test]
    fn data_the_sdk_throws_on_is_refused_with_its_path() {
        let fields = obj(r#"{"data":{"feedetailList":[{"a":"1"},{"a":"2"},{"a":"3"},{"l":["x",null]}],"b":["","x"]}}"#);
        let err = signable_sign_text(&fields, "S", KeyOrder::Ordinal).unwrap_err();
        assert_eq!(err.path, "feedetailList[3].l[1]");
        assert!(err.to_string().starts_with("feedetailList[3].l[1]: "), "{err}");
        let fields = obj(r#"{"data":{"b":["","x"]}}"#);
        assert_eq!(signable_sign_text(&fields, "S", KeyOrder::Ordinal).unwrap_err().path, "b[0]");
        let fields = obj(r#"{"data":{"feedetailList":[{"a":"1"},{"a":"2"},{"a":"3"},[null]]}}"#);
        assert_eq!(signable_sign_text(&fields, "S", KeyOrder::Ordinal).unwrap_err().path, "feedetailList[3][0]");
        let fields = obj(r#"{"data":{"k":"v"},"extData":{"x":[null]}}"#);
        let err = signable_sign_text(&fields, "S", KeyOrder::Ordinal).unwrap_err();
        assert_eq!((err.field.as_str(), err.path.as_str()), ("extData", "x[0]"));
        assert!(err.to_string().starts_with("extData.x[0]: "), "{err}");
        // Receiving is lenient: the same data gives a text (those elements left out).
        assert_eq!(text(r#"{"data":{"b":["","x",null]}}"#), r#"data={"b":["x"]}&key=SECRET"#);
        // And what the SDK can sign passes.
        let ok = obj(r#"{"data":{"b":["x",""],"c":[[]]}}"#);
        assert_eq!(signable_sign_text(&ok, "S", KeyOrder::Ordinal).unwrap(), r#"data={"b":["x"],"c":[null]}&key=S"#);
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
    fn canonical_json_escapes_as_fastjson1_and_keeps_non_ascii_raw() {
        let v = parse("{\"k\":\"张\\\"\\\\\\n\\u0002\\u001f\\u0085\u{a0}/\"}".as_bytes(), Limits::default()).unwrap();
        assert_eq!(canonical_json(&v, KeyOrder::Ordinal), "{\"k\":\"张\\\"\\\\\\n\\u0002\\u001F\\u0085\u{a0}/\"}");
        let f = vec![("data".into(), v)];
        let two = sign_text_with_style(&f, "K", Style { escapes: Escapes::Fastjson2, ..Style::PROTOCOL });
        assert_eq!(two, "data={\"k\":\"张\\\"\\\\\\n\\u0002\\u001f\u{85}\u{a0}/\"}&key=K");
    }

    #[test]
    fn styles_reproduce_other_ports() {
        let f = obj(r#"{"data":{"a":100.00,"n":{"x":1},"e":"","l":[],"m":{"z":null},"x":1e2}}"#);
        let s = |st| sign_text_with_style(&f, "K", st);
        let p = Style::PROTOCOL;
        assert_eq!(s(p), r#"data={"a":"100.00","m":{},"n":{"x":"1"},"x":"1E+2"}&key=K"#);
        assert_eq!(
            s(Style { stringify: Stringify::None, ..p }),
            r#"data={"a":100.00,"m":{},"n":{"x":1},"x":1E+2}&key=K"#
        );
        assert_eq!(
            s(Style { stringify: Stringify::TopLevelOnly, ..p }),
            r#"data={"a":"100.00","m":{},"n":{"x":1},"x":"1E+2"}&key=K"#
        );
        assert_eq!(
            s(Style { numbers: NumberStyle::FloatJava, ..p }),
            r#"data={"a":"100.0","m":{},"n":{"x":"1.0"},"x":"100.0"}&key=K"#
        );
        assert_eq!(
            s(Style { numbers: NumberStyle::FloatJs, ..p }),
            r#"data={"a":"100","m":{},"n":{"x":"1"},"x":"100"}&key=K"#
        );
        assert_eq!(
            s(Style { numbers: NumberStyle::Literal, ..p }),
            r#"data={"a":"100.00","m":{},"n":{"x":"1"},"x":"1e2"}&key=K"#
        );
        assert_eq!(
            s(Style { empties: Empties::KeepStrings, ..p }),
            r#"data={"a":"100.00","e":"","m":{},"n":{"x":"1"},"x":"1E+2"}&key=K"#
        );
        assert_eq!(
            s(Style { empties: Empties::KeepArrays, ..p }),
            r#"data={"a":"100.00","l":[],"m":{},"n":{"x":"1"},"x":"1E+2"}&key=K"#
        );
        assert_eq!(
            s(Style { empties: Empties::DropEmptied, ..p }),
            r#"data={"a":"100.00","n":{"x":"1"},"x":"1E+2"}&key=K"#
        );
        assert_eq!(
            s(Style { separators: Separators::PythonDefault, ..p }),
            r#"data={"a": "100.00", "m": {}, "n": {"x": "1"}, "x": "1E+2"}&key=K"#
        );
    }

    #[test]
    fn verifying_styles_start_with_the_signers_own() {
        let v = Style::verifying(KeyOrder::CaseInsensitive);
        assert_eq!(v[0], Style::with_order(KeyOrder::CaseInsensitive));
        assert_eq!(v[1], Style::PROTOCOL);
        assert!(v[2..].iter().all(|s| s.escapes == Escapes::Fastjson2));
    }

    /// The shared vectors (tests/vectors/sign_text.json, read by pytest too): each
    /// expected text was written by hand from docs/protocol.md.
    #[test]
    fn shared_vectors() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../../tests/vectors/sign_text.json")).unwrap();
        let secret = doc["app_secret"].as_str().unwrap();
        let cases = doc["cases"].as_array().unwrap();
        assert!(cases.len() >= 10);
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let fields = obj(case["message"].as_str().unwrap());
            let expect = |key: &str| case.get(key).and_then(|v| v.as_str());
            assert_eq!(sign_text(&fields, secret, KeyOrder::Ordinal), expect("sign_text").unwrap(), "{name}");
            let two = Style { escapes: Escapes::Fastjson2, ..Style::PROTOCOL };
            if let Some(t) = expect("sign_text_fastjson2") {
                assert_eq!(sign_text_with_style(&fields, secret, two), t, "{name}");
            }
            if let Some(t) = expect("sign_text_case_insensitive") {
                assert_eq!(sign_text(&fields, secret, KeyOrder::CaseInsensitive), t, "{name}");
            }
            match expect("unsignable") {
                Some(path) => {
                    assert_eq!(signable_sign_text(&fields, secret, KeyOrder::Ordinal).unwrap_err().path, path, "{name}")
                }
                None => assert_eq!(
                    signable_sign_text(&fields, secret, KeyOrder::Ordinal).as_deref(),
                    Ok(expect("sign_text").unwrap()),
                    "{name}"
                ),
            }
            // The text route gives the same text as the parsed route.
            if let Some(Value::Object(_)) = fields.iter().find(|(k, _)| k == "data").map(|(_, v)| v) {
                let data = serde_json::to_string(
                    &serde_json::from_str::<serde_json::Value>(case["message"].as_str().unwrap()).unwrap()["data"],
                )
                .unwrap();
                let others: Vec<(Text, Value)> = fields.iter().filter(|(k, _)| k != "data").cloned().collect();
                let from_text =
                    sign_text_of_json_data(&others, data.as_bytes(), Limits::default(), secret, Style::PROTOCOL)
                        .unwrap();
                assert_eq!(from_text.as_deref(), expect("sign_text"), "{name} (from text)");
            }
        }
    }
}
