//! An answer's protocol fields, `code`, `success` and `message` (docs/protocol.md §1), read
//! in this one place. The spec types `code` as a number, centers send `0`, `"0"` or `" 0 "`;
//! `success` comes as a JSON boolean or as the text `"true"`; and a gateway's refusal calls
//! its message `msg`. Every reader (the codec, its errors, the Python layer, the client
//! above it) takes these values from [`Status`], so they read the same everywhere.

use crate::error::{Error, Result};
use crate::json::{self, Text, Value};
use std::fmt;

/// An answer's `code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    /// An integral JSON number (`0`, `-0`, `1.0`, `1e3`) or a string holding an integer
    /// once trimmed (`"0"`, `" 0 "`, `"+7"`), that fits 64 bits.
    Int(i64),
    /// Anything else: a string as sent (untrimmed), or the literal of a number that is not
    /// integral or does not fit 64 bits.
    Text(Text),
}

impl Code {
    /// Read a `code` value; `None` for JSON null, an error for a boolean, array or object.
    ///
    /// ```
    /// use medpay_core::json::Value;
    /// use medpay_core::status::Code;
    /// assert_eq!(Code::read(&Value::String(" 0 ".into())).unwrap(), Some(Code::Int(0)));
    /// assert_eq!(Code::read(&Value::Number("1.0".into())).unwrap(), Some(Code::Int(1)));
    /// assert_eq!(Code::read(&Value::String("E01".into())).unwrap(), Some(Code::Text("E01".into())));
    /// ```
    pub fn read(v: &Value) -> Result<Option<Code>> {
        Ok(Some(match v {
            Value::Null => return Ok(None),
            Value::Number(lit) => integral(lit).map_or_else(|| Code::Text(lit.clone()), Code::Int),
            Value::String(s) => integer_text(s).map_or_else(|| Code::Text(s.clone()), Code::Int),
            other => {
                return Err(Error::envelope_field(
                    "code",
                    format!("code must be a number or a string, not {}", other.type_name()),
                ))
            }
        }))
    }

    /// Whether this is the code of success, 0.
    ///
    /// ```
    /// assert!(medpay_core::status::Code::Int(0).is_success());
    /// ```
    pub fn is_success(&self) -> bool {
        *self == Code::Int(0)
    }
}

impl fmt::Display for Code {
    /// An integer as digits, a text quoted (it came from the wire: no raw control
    /// characters reach a log).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Code::Int(i) => write!(f, "{i}"),
            Code::Text(t) => write!(f, "{:?}", t.as_str()),
        }
    }
}

/// The protocol fields of a message, normalised. All `None` in a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// `code`; `None` when absent or null.
    pub code: Option<Code>,
    /// `success`: a JSON boolean, or the strings `true`/`false` (trimmed, any case);
    /// `None` when absent or anything else.
    pub success: Option<bool>,
    /// `message`, or `msg` when `message` is absent or null (a gateway's refusal and the
    /// nested 6302 reply use `msg`), as text: a string as sent, another scalar as its JSON
    /// text, an array or object as its compact JSON; `None` when neither is there.
    pub message: Option<String>,
}

impl Status {
    /// Read the protocol fields from an envelope's top-level fields; an EnvelopeError
    /// naming `code` when the code is neither a number nor a string.
    ///
    /// ```
    /// use medpay_core::json::{Text, Value};
    /// use medpay_core::status::{Code, Status};
    /// let fields: Vec<(Text, Value)> = vec![
    ///     ("code".into(), Value::String("0".into())),
    ///     ("success".into(), Value::String(" True ".into())),
    ///     ("msg".into(), Value::String("成功".into())),
    /// ];
    /// let s = Status::read(&fields).unwrap();
    /// assert_eq!((s.code, s.success, s.message.as_deref()), (Some(Code::Int(0)), Some(true), Some("成功")));
    /// ```
    pub fn read(fields: &[(Text, Value)]) -> Result<Status> {
        let get =
            |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v).filter(|v| !matches!(v, Value::Null));
        Ok(Status {
            code: get("code").map(Code::read).transpose()?.flatten(),
            success: get("success").and_then(success_of),
            message: get("message").or_else(|| get("msg")).map(text_of),
        })
    }

    /// Whether the message is a refusal: it carries a code other than 0. A refusal may come
    /// without data (docs/protocol.md §1).
    ///
    /// ```
    /// use medpay_core::status::{Code, Status};
    /// assert!(Status { code: Some(Code::Int(1002)), ..Status::default() }.is_refusal());
    /// assert!(!Status { code: Some(Code::Int(0)), success: Some(false), ..Status::default() }.is_refusal());
    /// ```
    pub fn is_refusal(&self) -> bool {
        self.code.as_ref().is_some_and(|c| !c.is_success())
    }
}

/// `success` as a boolean, if it is one.
fn success_of(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => {
            let s = s.trim();
            if s.eq_ignore_ascii_case("true") {
                Some(true)
            } else if s.eq_ignore_ascii_case("false") {
                Some(false)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// A `message` as text.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => json::to_compact(other),
    }
}

/// A string holding an integer once trimmed: an optional sign and ASCII digits.
fn integer_text(s: &str) -> Option<i64> {
    let t = s.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// The value of a JSON number literal when it is an integer that fits 64 bits: `1.0` is 1,
/// `1.5e1` is 15 and `-0` is 0; `1.5` and `1e19` are not.
fn integral(lit: &str) -> Option<i64> {
    let (negative, body) = match lit.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, lit),
    };
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], body[i + 1..].trim_start_matches('+').parse::<i64>().ok()?),
        None => (body, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    // The value is the digits of int and frac as one integer, times 10^shift; the digits
    // that shift puts below the point must all be zeros.
    let shift = exp.checked_sub(frac.len() as i64)?;
    let below = if shift < 0 { usize::try_from(shift.unsigned_abs()).unwrap_or(usize::MAX) } else { 0 };
    let whole = (int.len() + frac.len()).saturating_sub(below);
    let too_big = |m: i128| m > i128::from(u64::MAX);
    let mut magnitude: i128 = 0;
    for (i, d) in int.bytes().chain(frac.bytes()).enumerate() {
        let d = i128::from(d - b'0');
        if i < whole {
            magnitude = magnitude * 10 + d;
            if too_big(magnitude) {
                return None;
            }
        } else if d != 0 {
            return None;
        }
    }
    for _ in 0..shift.max(0) {
        if magnitude == 0 {
            break;
        }
        magnitude *= 10;
        if too_big(magnitude) {
            return None;
        }
    }
    i64::try_from(if negative { -magnitude } else { magnitude }).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(json_fields: &str) -> Result<Status> {
        match json::parse(json_fields.as_bytes(), json::Limits::default()).unwrap() {
            Value::Object(m) => Status::read(&m),
            _ => unreachable!("the tests give objects"),
        }
    }

    fn code(json_value: &str) -> Option<Code> {
        status(&format!(r#"{{"code":{json_value}}}"#)).unwrap().code
    }

    #[test]
    fn an_integral_number_is_an_int() {
        for (lit, want) in [
            ("0", 0),
            ("-0", 0),
            ("1004", 1004),
            ("-7", -7),
            ("1.0", 1),
            ("1.000", 1),
            ("1e3", 1000),
            ("1.5e1", 15),
            ("150e-1", 15),
            ("0.0e5", 0),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
        ] {
            assert_eq!(code(lit), Some(Code::Int(want)), "{lit}");
        }
    }

    #[test]
    fn a_number_that_is_not_an_integer_of_64_bits_stays_its_literal() {
        for lit in ["1.5", "0.01", "1e-1", "9223372036854775808", "1e19", "1e999999999999999999999"] {
            assert_eq!(code(lit), Some(Code::Text(lit.into())), "{lit}");
        }
    }

    #[test]
    fn a_string_holding_an_integer_after_trimming_is_an_int() {
        for (s, want) in [("0", 0), (" 0 ", 0), ("\t1004\n", 1004), ("+7", 7), ("-7", -7), ("007", 7)] {
            assert_eq!(code(&format!("{s:?}")), Some(Code::Int(want)), "{s:?}");
        }
    }

    #[test]
    fn any_other_string_is_kept_as_sent() {
        for s in ["E01", " E01 ", "1.0", "0x10", "", "1 0", "--1", "+", "١٢", "99999999999999999999"] {
            assert_eq!(code(&format!("{s:?}")), Some(Code::Text(s.into())), "{s:?}");
        }
    }

    #[test]
    fn an_absent_or_null_code_is_none_and_other_types_are_envelope_errors() {
        assert_eq!(status("{}").unwrap().code, None);
        assert_eq!(code("null"), None);
        for bad in ["true", "[0]", r#"{"c":0}"#] {
            let e = status(&format!(r#"{{"code":{bad}}}"#)).unwrap_err();
            assert!(matches!(e, Error::Envelope(_)) && e.field() == Some("code"), "{bad}: {e:?}");
        }
    }

    #[test]
    fn success_is_a_bool_or_the_text_of_one() {
        let s = |v: &str| status(&format!(r#"{{"success":{v}}}"#)).unwrap().success;
        for (v, want) in [
            ("true", Some(true)),
            ("false", Some(false)),
            (r#""true""#, Some(true)),
            (r#""True""#, Some(true)),
            (r#"" FALSE ""#, Some(false)),
            (r#""yes""#, None),
            ("1", None),
            ("0", None),
            ("null", None),
            (r#""""#, None),
            ("[]", None),
        ] {
            assert_eq!(s(v), want, "{v}");
        }
        assert_eq!(status("{}").unwrap().success, None);
    }

    #[test]
    fn message_is_text_read_from_msg_when_message_is_absent() {
        let m = |fields: &str| status(fields).unwrap().message;
        assert_eq!(m(r#"{"message":"成功"}"#).as_deref(), Some("成功"));
        assert_eq!(m(r#"{"msg":"接口调用成功"}"#).as_deref(), Some("接口调用成功"));
        assert_eq!(m(r#"{"message":"a","msg":"b"}"#).as_deref(), Some("a"));
        assert_eq!(m(r#"{"message":null,"msg":"b"}"#).as_deref(), Some("b"));
        assert_eq!(m(r#"{"message":" x "}"#).as_deref(), Some(" x "));
        assert_eq!(m(r#"{"message":404}"#).as_deref(), Some("404"));
        assert_eq!(m(r#"{"message":false}"#).as_deref(), Some("false"));
        assert_eq!(m(r#"{"message":{"b":1,"a":[]}}"#).as_deref(), Some(r#"{"b":1,"a":[]}"#));
        assert_eq!(m("{}"), None);
    }

    #[test]
    fn a_refusal_is_a_code_other_than_zero() {
        assert!(!status("{}").unwrap().is_refusal());
        assert!(!status(r#"{"code":" 0 "}"#).unwrap().is_refusal());
        assert!(!status(r#"{"code":0.0,"success":false}"#).unwrap().is_refusal());
        assert!(status(r#"{"code":1002}"#).unwrap().is_refusal());
        assert!(status(r#"{"code":"E01"}"#).unwrap().is_refusal());
    }

    #[test]
    fn codes_display_as_digits_or_quoted_text() {
        assert_eq!(Code::Int(-3).to_string(), "-3");
        assert_eq!(Code::Text("a\nb".into()).to_string(), r#""a\nb""#);
    }
}
