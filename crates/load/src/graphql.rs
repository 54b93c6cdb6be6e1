//! Calls to a GraphQL endpoint over HTTP, how a failure is named (its `extensions.code`, or how
//! the transport failed), and retries that resend the same request — the same idempotency key —
//! after failures a client may retry.

use std::future::Future;
use std::time::Duration;

use serde_json::{Value, json};

/// A GraphQL endpoint, shared by every client of a scenario (one connection pool).
#[derive(Debug, Clone)]
pub struct Endpoint {
    url: String,
    http: reqwest::Client,
}

/// Why a call gave no data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// `extensions.code` of the first error, `HTTP_<status>`, or `TRANSPORT`.
    pub code: String,
    /// Whether sending the same request again may succeed (overload, a timeout, a dropped
    /// connection); a refusal (`CONFLICT`, `BAD_USER_INPUT`, …) is final.
    pub retryable: bool,
}

impl CallError {
    fn new(code: impl Into<String>) -> Self {
        let code = code.into();
        let retryable = matches!(code.as_str(), "TRANSPORT" | "SERVICE_UNAVAILABLE" | "TIMEOUT" | "HTTP_429")
            || code.starts_with("HTTP_5");
        Self { code, retryable }
    }
}

impl Endpoint {
    /// The endpoint at `url` (e.g. `http://127.0.0.1:8080/graphql`).
    pub fn new(url: impl Into<String>) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1024)
            .timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .build()?;
        Ok(Self { url: url.into(), http })
    }

    /// The URL the endpoint posts to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Posts one operation; the `data` on success.
    pub async fn call(&self, document: &str, variables: &Value, bearer: Option<&str>) -> Result<Value, CallError> {
        self.call_with(document, variables, bearer, &[]).await
    }

    /// Posts one operation with extra headers (the peer takes the caller's claims as headers).
    pub async fn call_with(
        &self,
        document: &str,
        variables: &Value,
        bearer: Option<&str>,
        headers: &[(String, String)],
    ) -> Result<Value, CallError> {
        let mut request = self.http.post(&self.url).json(&json!({ "query": document, "variables": variables }));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|_| CallError::new("TRANSPORT"))?;
        let status = response.status();
        let body: Value = match response.json().await {
            Ok(body) => body,
            Err(_) => return Err(CallError::new(format!("HTTP_{}", status.as_u16()))),
        };
        classify(status.as_u16(), body)
    }
}

/// The data of a GraphQL answer, or the code of its first error.
pub fn classify(status: u16, mut body: Value) -> Result<Value, CallError> {
    if let Some(first) = body.get("errors").and_then(|e| e.as_array()).and_then(|e| e.first()) {
        let code = first["extensions"]["code"].as_str().map(str::to_owned);
        return Err(CallError::new(code.unwrap_or_else(|| format!("HTTP_{status}"))));
    }
    if !(200..300).contains(&status) {
        return Err(CallError::new(format!("HTTP_{status}")));
    }
    match body.get_mut("data").map(Value::take) {
        Some(data) if !data.is_null() => Ok(data),
        _ => Err(CallError::new("NO_DATA")),
    }
}

/// Runs `attempt` until it succeeds, fails for good, or has been tried `tries` times, waiting
/// longer after each retryable failure. Whatever the attempt sends (an idempotency key above
/// all) is decided by the caller once, so every retry is the same request.
pub async fn with_retries<T, F, Fut>(tries: u32, mut attempt: F) -> Result<T, CallError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, CallError>>,
{
    let mut wait = Duration::from_millis(20);
    let mut tried = 0;
    loop {
        tried += 1;
        match attempt().await {
            Err(err) if err.retryable && tried < tries => {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn the_first_error_code_names_a_failure() {
        let body = json!({ "errors": [{ "message": "no", "extensions": { "code": "CONFLICT" } }], "data": null });
        assert_eq!(classify(200, body), Err(CallError { code: "CONFLICT".into(), retryable: false }));
        let overloaded = json!({ "errors": [{ "message": "busy", "extensions": { "code": "SERVICE_UNAVAILABLE" } }] });
        assert!(classify(503, overloaded).is_err_and(|e| e.retryable));
        assert_eq!(classify(200, json!({ "data": { "a": 1 } })), Ok(json!({ "a": 1 })));
        assert_eq!(classify(502, json!({})).map_err(|e| e.code), Err("HTTP_502".into()));
        assert_eq!(classify(200, json!({ "data": null })).map_err(|e| e.code), Err("NO_DATA".into()));
    }

    #[tokio::test]
    async fn a_retry_resends_the_same_key_until_it_succeeds() {
        let key = uuid::Uuid::new_v4().to_string();
        let sent = Arc::new(Mutex::new(Vec::new()));
        let outcome = with_retries(5, || {
            let sent = Arc::clone(&sent);
            let key = key.clone();
            async move {
                let mut sent = sent.lock().map_err(|_| CallError::new("POISONED"))?;
                sent.push(key.clone());
                if sent.len() < 3 { Err(CallError::new("TRANSPORT")) } else { Ok(key) }
            }
        })
        .await;
        let sent = sent.lock().map(|s| s.clone()).unwrap_or_default();
        assert_eq!(outcome, Ok(key.clone()));
        assert_eq!(sent, vec![key.clone(), key.clone(), key]);
    }

    #[tokio::test]
    async fn a_refusal_is_not_retried_and_retries_stop_at_the_limit() {
        let mut calls = 0;
        let refused: Result<(), _> = with_retries(5, || {
            calls += 1;
            async { Err(CallError::new("CONFLICT")) }
        })
        .await;
        assert_eq!(calls, 1);
        assert!(refused.is_err());
        let mut calls = 0;
        let down: Result<(), _> = with_retries(3, || {
            calls += 1;
            async { Err(CallError::new("HTTP_503")) }
        })
        .await;
        assert_eq!(calls, 3);
        assert_eq!(down.map_err(|e| e.code), Err("HTTP_503".into()));
    }
}
