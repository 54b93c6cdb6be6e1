//! The JSON body of a REST endpoint, checked once for what no endpoint accepts before it is
//! turned into the endpoint's type: a string (or key) holding NUL, which PostgreSQL cannot
//! store and which answered 500 on `POST /auth/login`. The refusal is `400 BAD_USER_INPUT`
//! naming the field (`{"error": {"code", "message", "field": "email"}}`).
//!
//! Content type, size limit and malformed JSON are refused as `web::Json` refuses them (the
//! app's `JsonConfig`).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::rest_error::RestError;

/// A REST body of type `T` whose strings hold no NUL.
pub struct CheckedJson<T>(pub T);

impl<T> CheckedJson<T> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for CheckedJson<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = web::Json::<Value>::from_request(request, payload);
        Box::pin(async move {
            let value = json.await?.into_inner();
            if let Some(field) = nul_at(&value, "") {
                return Err(RestError::bad_field(field, "must not contain the NUL character").into());
            }
            serde_json::from_value(value).map(CheckedJson).map_err(|err| {
                RestError::bad_input(format!("the body is not the JSON this endpoint expects: {err}")).into()
            })
        })
    }
}

/// The path of the first string or key in `value` holding NUL (`email`, `items[2].name`).
pub fn nul_at(value: &Value, path: &str) -> Option<String> {
    match value {
        Value::String(text) if text.contains('\0') => {
            Some(if path.is_empty() { "body".to_owned() } else { path.to_owned() })
        }
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| nul_at(item, &format!("{path}[{i}]"))),
        Value::Object(fields) => fields.iter().find_map(|(key, field)| {
            let at =
                if path.is_empty() { key.replace('\0', "\\0") } else { format!("{path}.{}", key.replace('\0', "\\0")) };
            if key.contains('\0') { Some(at) } else { nul_at(field, &at) }
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_first_nul_is_found_at_any_depth_and_named() {
        assert_eq!(nul_at(&json!({ "email": "a\u{0}@b", "password": "x" }), ""), Some("email".into()));
        assert_eq!(
            nul_at(&json!({ "list": [{ "ok": "fine" }, { "name": "n\u{0}" }] }), ""),
            Some("list[1].name".into())
        );
        assert_eq!(nul_at(&json!({ "k\u{0}": 1 }), ""), Some("k\\0".into()));
        assert_eq!(nul_at(&json!({ "email": "a@b", "n": 1, "t": true }), ""), None);
    }
}
