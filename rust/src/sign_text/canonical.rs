//! The canonical JSON of a parsed [`Value`] (the rules are [`Style`]'s; the same JSON
//! straight from text is [`super::from_text`]).

use super::sort::KeySorter;
use super::{escape, last_solid, write_bool, write_number, Element, Empties, KeyOrder, Shape, Style};
use crate::json::{Text, Value};

/// What `v` is to the rules for empty values.
fn shape(v: &Value, style: Style) -> Shape {
    let drop_emptied = style.empties == Empties::DropEmptied;
    match v {
        Value::Null => Shape::Null,
        Value::String(s) if s.is_empty() => Shape::EmptyString,
        Value::String(_) | Value::Number(_) | Value::Bool(_) => Shape::Scalar,
        Value::Array(items) if items.is_empty() => Shape::EmptyArray,
        Value::Array(items) => Shape::Container {
            emptied: drop_emptied && items.iter().all(|e| style.element(shape(e, style), false) == Element::Drop),
        },
        Value::Object(members) => Shape::Container {
            emptied: drop_emptied && members.iter().all(|(_, m)| style.drops_member(shape(m, style))),
        },
    }
}

/// Writes canonical JSON; remembers whether it left out an element the SDK throws on.
struct Writer {
    style: Style,
    sorter: KeySorter,
    unsignable: bool,
}

impl Writer {
    fn new(style: Style) -> Self {
        Writer { style, sorter: KeySorter::new(style.key_order), unsignable: false }
    }

    /// `depth` is 0 for a top-level field's value, 1 for its members, and so on.
    fn write(&mut self, out: &mut String, v: &Value, depth: usize) {
        let style = self.style;
        match v {
            Value::Object(members) => {
                out.push('{');
                let kept: Vec<&(Text, Value)> =
                    members.iter().filter(|(_, m)| !style.drops_member(shape(m, style))).collect();
                // Copied out: the members' own objects use the sorter too.
                let order = self.sorter.sort(kept.iter().map(|(k, _)| k.as_str())).to_vec();
                for (i, &at) in order.iter().enumerate() {
                    if i > 0 {
                        style.push_comma(out);
                    }
                    let (k, m) = kept[at as usize];
                    escape::write_string(out, k, style.escapes);
                    style.push_colon(out);
                    self.write(out, m, depth + 1);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                let last = last_solid(items.iter().map(|e| shape(e, style)));
                let mut first = true;
                for (i, e) in items.iter().enumerate() {
                    let action = style.element(shape(e, style), last.is_some_and(|l| i < l));
                    if matches!(action, Element::Drop | Element::Unsignable) {
                        self.unsignable |= action == Element::Unsignable;
                        continue;
                    }
                    if !first {
                        style.push_comma(out);
                    }
                    first = false;
                    match action {
                        Element::Null => out.push_str("null"),
                        _ => self.write(out, e, depth + 1),
                    }
                }
                out.push(']');
            }
            Value::String(s) => escape::write_string(out, s, style.escapes),
            Value::Number(n) => write_number(out, n, style, depth),
            Value::Bool(b) => write_bool(out, *b, style, depth),
            Value::Null => out.push_str("null"),
        }
    }
}

/// Append a top-level field's container value (`v` is an array or object): an empty
/// array is `null` (and so left out) where the SDK makes it so. Whether the value holds
/// an element the SDK throws on.
pub(crate) fn write_top_level(out: &mut String, v: &Value, style: Style) -> bool {
    if matches!(v, Value::Array(items) if items.is_empty()) {
        out.push_str(super::empty_top_level_array(style));
        return false;
    }
    let mut w = Writer::new(style);
    w.write(out, v, 0);
    w.unsignable
}

/// The canonical JSON of a nested value, the SDK's rules with the given key order.
///
/// ```
/// use medpay_core::json::{parse, Limits};
/// use medpay_core::sign_text::{canonical_json, KeyOrder};
/// let v = parse(br#"{"b":[[],1],"a":{"c":null}}"#, Limits::default()).unwrap();
/// assert_eq!(canonical_json(&v, KeyOrder::Ordinal), r#"{"a":{},"b":[null,"1"]}"#);
/// ```
pub fn canonical_json(v: &Value, order: KeyOrder) -> String {
    canonical_json_with_style(v, Style::with_order(order))
}

/// The canonical JSON of a nested value in any [`Style`].
pub fn canonical_json_with_style(v: &Value, style: Style) -> String {
    let mut out = String::new();
    Writer::new(style).write(&mut out, v, 0);
    out
}

/// Where `v` holds data the SDK throws on (a null element, an `""` element followed by
/// one that is not `""`), as a path (`feedetailList[3]`, `[0].x`), the first in document
/// order; `None` when the SDK can sign it.
///
/// ```
/// use medpay_core::json::{parse, Limits};
/// use medpay_core::sign_text::unsignable_path;
/// let v = parse(br#"{"l":[{"a":["","x"]}]}"#, Limits::default()).unwrap();
/// assert_eq!(unsignable_path(&v).as_deref(), Some("l[0].a[0]"));
/// ```
pub fn unsignable_path(v: &Value) -> Option<String> {
    let style = Style::PROTOCOL;
    let join = |at: &str, step: String| {
        if at.is_empty() || step.starts_with('[') {
            format!("{at}{step}")
        } else {
            format!("{at}.{step}")
        }
    };
    fn walk(v: &Value, at: &str, style: Style, join: &dyn Fn(&str, String) -> String) -> Option<String> {
        match v {
            Value::Object(members) => members
                .iter()
                .filter(|(_, m)| !style.drops_member(shape(m, style)))
                .find_map(|(k, m)| walk(m, &join(at, k.to_string()), style, join)),
            Value::Array(items) => {
                let last = last_solid(items.iter().map(|e| shape(e, style)));
                items.iter().enumerate().find_map(|(i, e)| {
                    let here = join(at, format!("[{i}]"));
                    match style.element(shape(e, style), last.is_some_and(|l| i < l)) {
                        Element::Unsignable => Some(here),
                        Element::Write => walk(e, &here, style, join),
                        Element::Null | Element::Drop => None,
                    }
                })
            }
            _ => None,
        }
    }
    walk(v, "", style, &join)
}
