//! Request extractors whose every failure is a problem+json answer.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::error::{ApiError, FieldError};

/// The largest body a request may carry, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON body, decoded strictly and validated. Malformed JSON is a 400;
/// a wrong type, missing or unknown field is a 422 naming the field.
pub struct ValidJson<T>(pub T);

impl<T> ValidJson<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<BodyLimit>().copied().unwrap_or(BodyLimit(1 << 20)).0;
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
            .is_some_and(|m| m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON));
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::new(
                    actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "send the body as application/json",
                ));
            }
            let bytes = body.await.map_err(|e| match e.as_response_error().status_code().as_u16() {
                413 => ApiError::payload_too_large(limit),
                _ => ApiError::bad_request("unreadable_body", "the request body could not be read"),
            })?;
            let value = decode_json::<T>(&bytes)?;
            value.validate()?;
            Ok(ValidJson(value))
        })
    }
}

/// Decodes JSON, telling a syntax error (400) from a body of the wrong shape (422).
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(not_an_object());
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        // serde_json calls some type mismatches (`true` for an enum) syntax errors.
        let well_formed = serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok();
        decode_error(error, well_formed)
    })?;
    // Anything but white space after the value makes the body malformed.
    deserializer
        .end()
        .map_err(|e| ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

/// Decodes one item of a JSON body already parsed (a record in a sync batch).
pub fn decode_value<T: DeserializeOwned>(value: &serde_json::Value) -> Result<T, ApiError> {
    if value.is_array() {
        return Err(not_an_object());
    }
    serde_path_to_error::deserialize(value).map_err(|error| decode_error(error, true))
}

/// serde would read a record from a JSON array too, taking its fields in
/// order; every body and record is an object.
fn not_an_object() -> ApiError {
    ApiError::validation(vec![FieldError::new(String::new(), "invalid_type", "expected a JSON object")])
}

fn decode_error(error: serde_path_to_error::Error<serde_json::Error>, well_formed: bool) -> ApiError {
    let path = error.path().to_string();
    let inner = error.into_inner();
    if inner.is_data() || well_formed {
        let (code, field) = classify_data_error(&inner.to_string(), &path);
        ApiError::validation(vec![FieldError::new(field, code, strip_position(&inner.to_string()))])
    } else {
        ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {inner}"))
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
    } else {
        ("invalid_type", if path == "." { String::new() } else { path.to_owned() })
    }
}

fn strip_position(message: &str) -> String {
    message.split(" at line ").next().unwrap_or(message).to_owned()
}

/// Bad query strings are 400s in problem+json.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|error, _| ApiError::bad_request("invalid_query", strip_position(&error.to_string())).into())
}

/// A path segment that is not a valid id names no record: 404.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_, _| ApiError::not_found("record").into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        count: u32,
    }

    #[test]
    fn syntax_errors_are_400() {
        let error = decode_json::<Body>(b"{\"name\": ").unwrap_err();
        assert_eq!(error.status().as_u16(), 400);
        assert_eq!(error.code(), "malformed_json");
    }

    #[test]
    fn shape_errors_name_the_field() {
        let error = decode_json::<Body>(br#"{"name": "a", "count": "x"}"#).unwrap_err().problem();
        assert_eq!((error.errors[0].field.as_str(), error.errors[0].code.as_str()), ("count", "invalid_type"));
        let error = decode_json::<Body>(br#"{"name": "a", "count": 1, "extra": 1}"#).unwrap_err().problem();
        assert_eq!((error.errors[0].field.as_str(), error.errors[0].code.as_str()), ("extra", "unknown_field"));
        let error = decode_json::<Body>(br#"{"name": "a"}"#).unwrap_err().problem();
        assert_eq!((error.errors[0].field.as_str(), error.errors[0].code.as_str()), ("count", "required"));
        let error = decode_json::<Body>(br#"{"name": "a", "count": -1}"#).unwrap_err().problem();
        assert_eq!(error.status, 422);
        let error = decode_json::<Body>(br#"{"name": true, "count": 1}"#).unwrap_err().problem();
        assert_eq!((error.status, error.errors[0].field.as_str()), (422, "name"));
        let error = decode_json::<Body>(br#"{"name": "a", "count": 1} x"#).unwrap_err().problem();
        assert_eq!((error.status, error.code.as_str()), (400, "malformed_json"));
        let error = decode_json::<Body>(br#" ["a", 1]"#).unwrap_err().problem();
        assert_eq!((error.status, error.errors[0].code.as_str()), (422, "invalid_type"));
    }
}
