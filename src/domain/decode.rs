//! Reading JSON strictly: a body that is not JSON at all is a bad request;
//! one of the wrong shape (a wrong type, a missing, unknown or repeated
//! field) names the field in a validation error. Request bodies and each
//! record of a sync queue are read the same way, from their own text: a
//! record read from an already parsed `serde_json::Value` would have lost
//! a repeated key (the last one wins there) before anyone could refuse it.

use std::borrow::Cow;

use serde_json::value::RawValue;

use serde::de::DeserializeOwned;

use super::error::{Code, Error, FieldError};

/// Decodes JSON, telling a syntax error (400) from a body of the wrong shape (422).
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(not_an_object());
    }
    let bytes = &whole_numbers_as_integers(bytes)[..];
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        // serde_json calls some type mismatches (`true` for an enum) syntax errors.
        let well_formed = serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok();
        decode_error(error, well_formed)
    })?;
    // Anything but white space after the value makes the body malformed.
    deserializer.end().map_err(|e| malformed(&e))?;
    Ok(value)
}

/// Decodes one item of a JSON body (a record in a sync batch) from its own
/// text, exactly as [`decode_json`] decodes a body. The text is known to be
/// well-formed JSON, so every refusal is a field error.
pub fn decode_item<T: DeserializeOwned>(item: &RawValue) -> Result<T, Error> {
    decode_json(item.get().as_bytes())
}

/// JSON Schema counts a number with a zero fraction (`97.0`, `1e2`) as an
/// integer, and so do generated clients that write every number as a
/// float; serde does not. Such numbers are rewritten as integers (`97`,
/// `100`) before decoding, outside strings only, so that an integer field
/// takes what its schema allows and a number field reads the same value.
/// A fraction (`1.5`) is left alone, and so is a number too long to be any
/// integer field's value.
fn whole_numbers_as_integers(bytes: &[u8]) -> Cow<'_, [u8]> {
    let mut out: Option<Vec<u8>> = None;
    let (mut i, mut copied, mut in_string) = (0, 0, false);
    while i < bytes.len() {
        let byte = bytes[i];
        if in_string {
            match byte {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if byte == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        if byte == b'-' || byte.is_ascii_digit() {
            let end = bytes[i..]
                .iter()
                .position(|b| !(b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')))
                .map_or(bytes.len(), |n| i + n);
            if let Some(integer) = std::str::from_utf8(&bytes[i..end]).ok().and_then(as_integer) {
                let out = out.get_or_insert_with(|| Vec::with_capacity(bytes.len()));
                out.extend_from_slice(&bytes[copied..i]);
                out.extend_from_slice(integer.as_bytes());
                copied = end;
            }
            i = end;
            continue;
        }
        i += 1;
    }
    match out {
        None => Cow::Borrowed(bytes),
        Some(mut out) => {
            out.extend_from_slice(&bytes[copied..]);
            Cow::Owned(out)
        }
    }
}

/// A JSON number with a fraction or an exponent, written as the integer it
/// equals exactly; `None` for a plain integer, a fraction, or a number of
/// more than 20 digits.
fn as_integer(number: &str) -> Option<String> {
    let (negative, unsigned) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], unsigned[at + 1..].parse::<i32>().ok()?),
        None if unsigned.contains('.') => (unsigned, 0),
        None => return None,
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        // JSON's grammar: digits on both sides of a point, no leading zero.
        Some((_, "")) => return None,
        Some(parts) => parts,
        None => (mantissa, ""),
    };
    let leading_zero = whole.len() > 1 && whole.starts_with('0');
    if whole.is_empty() || leading_zero || !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut digits = format!("{whole}{fraction}");
    let shift = exponent.checked_sub(i32::try_from(fraction.len()).ok()?)?;
    if shift >= 0 {
        if digits.len() + usize::try_from(shift).ok()? > 20 {
            return None;
        }
        digits.extend(std::iter::repeat_n('0', usize::try_from(shift).ok()?));
    } else {
        let dropped = usize::try_from(-shift).ok()?;
        if dropped > digits.len() || !digits[digits.len() - dropped..].bytes().all(|b| b == b'0') {
            return None;
        }
        digits.truncate(digits.len() - dropped);
    }
    let digits = digits.trim_start_matches('0');
    Some(match (digits.is_empty(), negative) {
        (true, _) => "0".to_owned(),
        (false, true) => format!("-{digits}"),
        (false, false) => digits.to_owned(),
    })
}

fn malformed(error: &serde_json::Error) -> Error {
    Error::BadRequest { code: Code::MalformedJson, detail: format!("the body is not valid JSON: {error}") }
}

/// serde would read a record from a JSON array too, taking its fields in
/// order; every body and record is an object.
fn not_an_object() -> Error {
    Error::invalid(vec![FieldError::new(String::new(), "invalid_type", "expected a JSON object")])
}

fn decode_error(error: serde_path_to_error::Error<serde_json::Error>, well_formed: bool) -> Error {
    let path = error.path().to_string();
    let inner = error.into_inner();
    if inner.is_data() || well_formed {
        let (code, field) = classify_data_error(&inner.to_string(), &path);
        Error::invalid(vec![FieldError::new(field, code, strip_position(&inner.to_string()))])
    } else {
        malformed(&inner)
    }
}

/// serde names a missing field in its message only; the path ends at its parent.
fn classify_data_error(message: &str, path: &str) -> (&'static str, String) {
    let named = message.split('`').nth(1).unwrap_or_default();
    let join = |name: &str| if path == "." || path.is_empty() { name.to_owned() } else { format!("{path}.{name}") };
    if message.starts_with("unknown field") {
        ("unknown_field", path.to_owned())
    } else if message.starts_with("missing field") {
        ("required", join(named))
    } else if message.starts_with("unknown variant") {
        ("unknown_value", path.to_owned())
    } else if message.starts_with("duplicate field") {
        ("duplicate_field", join(named))
    } else {
        ("invalid_type", if path == "." { String::new() } else { path.to_owned() })
    }
}

/// serde's messages end with where in the text the problem is; a field name says more.
pub fn strip_position(message: &str) -> String {
    message.split(" at line ").next().unwrap_or(message).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_are_read_as_integers() {
        for (number, integer) in [
            ("97.0", Some("97")),
            ("1e2", Some("100")),
            ("-3.00", Some("-3")),
            ("9.7E1", Some("97")),
            ("2500e-2", Some("25")),
            ("0.0", Some("0")),
            ("-0.0", Some("0")),
            ("1.5", None),
            ("1e-2", None),
            ("97", None),
            ("1e400", None),
            ("1.", None),
            ("01.0", None),
            ("1e+2", Some("100")),
            ("1e", None),
        ] {
            assert_eq!(as_integer(number).as_deref(), integer, "{number}");
        }
        let body = br#"{"a": 5.0, "b": "5.0 \" 7.0", "c": [1e1, 2.5]}"#;
        assert_eq!(
            std::str::from_utf8(&whole_numbers_as_integers(body)).unwrap(),
            r#"{"a": 5, "b": "5.0 \" 7.0", "c": [10, 2.5]}"#
        );
        assert!(matches!(whole_numbers_as_integers(b"{\"a\": 5}"), Cow::Borrowed(_)));
    }
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        count: u32,
    }

    fn field_error(error: Error) -> (String, String) {
        let Error::Invalid(errors) = error else { panic!("not a validation error: {error:?}") };
        (errors[0].field.clone(), errors[0].code.clone())
    }

    #[test]
    fn syntax_errors_are_bad_requests() {
        let error = decode_json::<Body>(b"{\"name\": ").unwrap_err();
        assert_eq!(error.code(), Code::MalformedJson);
        let error = decode_json::<Body>(br#"{"name": "a", "count": 1} x"#).unwrap_err();
        assert_eq!(error.code(), Code::MalformedJson);
    }

    #[test]
    fn shape_errors_name_the_field() {
        let field = |text: &[u8]| field_error(decode_json::<Body>(text).unwrap_err());
        assert_eq!(field(br#"{"name": "a", "count": "x"}"#), ("count".into(), "invalid_type".into()));
        assert_eq!(field(br#"{"name": "a", "count": 1, "extra": 1}"#), ("extra".into(), "unknown_field".into()));
        assert_eq!(field(br#"{"name": "a"}"#), ("count".into(), "required".into()));
        assert_eq!(decode_json::<Body>(br#"{"name": "a", "count": -1}"#).unwrap_err().code(), Code::ValidationFailed);
        assert_eq!(field(br#"{"name": true, "count": 1}"#).0, "name");
        assert_eq!(field(br#" ["a", 1]"#), (String::new(), "invalid_type".into()));
        assert_eq!(field(br#"{"name": "a", "count": 1, "count": 2}"#), ("count".into(), "duplicate_field".into()));
    }

    #[test]
    fn items_are_read_from_their_own_text_like_bodies() {
        #[derive(Debug, serde::Deserialize)]
        struct Queue {
            items: Vec<Box<RawValue>>,
        }
        let queue: Queue = serde_json::from_str(
            r#"{"items": [{"name": "a", "count": 1}, {"name": "a", "count": 1, "count": 7}, ["a", 1], {"name": 5}]}"#,
        )
        .unwrap();
        let judged: Vec<Result<Body, Error>> = queue.items.iter().map(|item| decode_item::<Body>(item)).collect();
        assert!(judged[0].is_ok());
        let errors: Vec<(String, String)> = judged.into_iter().skip(1).map(|r| field_error(r.unwrap_err())).collect();
        assert_eq!(
            errors,
            [
                ("count".into(), "duplicate_field".into()),
                (String::new(), "invalid_type".into()),
                ("name".into(), "invalid_type".into())
            ]
        );
    }
}
