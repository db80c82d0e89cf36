//! The sign text's two routes against each other: built from the parsed value, and
//! straight from the JSON text of `data`. Whenever the text route gives a text, it is the
//! value route's, in every style the verifier accepts.
#![no_main]
use libfuzzer_sys::fuzz_target;
use medpay_core::json::{parse, Limits, Value};
use medpay_core::sign_text::{sign_text_of_json_data, sign_text_with_style, KeyOrder, Style};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let Ok(value) = parse(data, limits) else { return };
    let others = vec![("appId".into(), Value::String("A1".into()))];
    for order in [KeyOrder::Ordinal, KeyOrder::CaseInsensitive] {
        for style in Style::verifying(order) {
            if let Ok(Some(from_text)) = sign_text_of_json_data(&others, data, limits, "S", style) {
                let mut fields = others.clone();
                fields.push(("data".into(), value.clone()));
                assert_eq!(from_text, sign_text_with_style(&fields, "S", style));
            }
        }
    }
});
