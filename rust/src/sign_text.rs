//! The sign text: the exact string SM2 signs (PROTOCOL.md §2).
//!
//! Every rule of §2 lives here: which top-level fields take part, how each value is
//! rendered, the canonical JSON of nested values, and the key order. The variants seen in
//! other ports are here too, as [`Style`] settings, so that `diagnose` can rebuild a peer's
//! text with the same code; the default style is the protocol's.

use crate::json::{write_string, Text, Value};
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
    let mut kept: Vec<&(Text, Value)> = fields
        .iter()
        .filter(|(k, v)| {
            !EXCLUDED_FIELDS.contains(&k.as_str())
                && !matches!(v, Value::Null)
                && (style.keep_empty || !matches!(v, Value::String(s) if s.is_empty()))
        })
        .collect();
    kept.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::with_capacity(4096);
    for (k, v) in kept {
        out.push_str(k);
        out.push('=');
        match v {
            Value::String(s) => out.push_str(s),
            Value::Number(n) => push_number(&mut out, n, style.numbers),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Null => {}
            Value::Array(_) | Value::Object(_) => canonical_into(&mut out, v, style, 0),
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

/// Whether a canonicalized member is dropped from an object: null, `""`, and (since the
/// canonical text of an empty container says nothing) empty arrays and objects.
fn drops_member(v: &Value, style: Style) -> bool {
    match v {
        Value::Null => true,
        _ if style.keep_empty => false,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => !a.iter().any(|e| !drops_element(e, style)),
        Value::Object(m) => !m.iter().any(|(_, e)| !drops_member(e, style)),
        _ => false,
    }
}

/// Whether an array element is dropped: null and `""` only (PROTOCOL §2).
fn drops_element(v: &Value, style: Style) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty() && !style.keep_empty,
        _ => false,
    }
}

/// The members an object keeps in the canonical JSON, in sign-text order.
fn sorted_members(members: &[(Text, Value)], style: Style) -> Vec<&(Text, Value)> {
    let kept = members.iter().filter(|(_, m)| !drops_member(m, style));
    match style.key_order {
        KeyOrder::Ordinal => {
            // Sort on the first 8 bytes as one integer, comparing whole keys only on a tie
            // (the position breaks ties between equal keys, which a hand-built Value may
            // hold, so the order never depends on the sort algorithm).
            let mut keyed: Vec<(u64, usize, &(Text, Value))> = kept
                .enumerate()
                .map(|(i, m)| {
                    let b = m.0.as_bytes();
                    let mut w = [0u8; 8];
                    w[..b.len().min(8)].copy_from_slice(&b[..b.len().min(8)]);
                    (u64::from_be_bytes(w), i, m)
                })
                .collect();
            keyed.sort_unstable_by(|a, b| {
                a.0.cmp(&b.0).then_with(|| a.2 .0.as_bytes().cmp(b.2 .0.as_bytes())).then(a.1.cmp(&b.1))
            });
            keyed.into_iter().map(|(_, _, m)| m).collect()
        }
        KeyOrder::CaseInsensitive => {
            let mut kept: Vec<&(Text, Value)> = kept.collect();
            kept.sort_by(|a, b| style.key_order.compare(&a.0, &b.0));
            kept
        }
    }
}

/// `depth` is 0 for a top-level field's value, 1 for its members, and so on.
fn canonical_into(out: &mut String, v: &Value, style: Style, depth: usize) {
    let stringify = match style.stringify {
        Stringify::All => true,
        Stringify::TopLevelOnly => depth == 1,
        Stringify::None => false,
    };
    match v {
        Value::Object(members) => {
            out.push('{');
            for (i, (k, m)) in sorted_members(members, style).into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                canonical_into(out, m, style, depth + 1);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            let mut first = true;
            for it in items.iter().filter(|e| !drops_element(e, style)) {
                if !first {
                    out.push(',');
                }
                first = false;
                canonical_into(out, it, style, depth + 1);
            }
            out.push(']');
        }
        Value::String(s) => write_string(out, s),
        Value::Number(n) if stringify => {
            // A number's text never needs escaping: quoting it is enough.
            out.push('"');
            push_number(out, n, style.numbers);
            out.push('"');
        }
        Value::Number(n) => push_number(out, n, style.numbers),
        Value::Bool(b) => {
            let t = if *b { "true" } else { "false" };
            if stringify {
                out.push('"');
                out.push_str(t);
                out.push('"');
            } else {
                out.push_str(t);
            }
        }
        Value::Null => out.push_str("null"),
    }
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
}
