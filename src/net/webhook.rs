//! Webhook delivery: JSON events POSTed to URLs a user registered (a portal's notifications, such
//! as a device's status change), from a background task, in order.
//!
//! * [`client`] builds the one HTTP client every delivery shares. It trusts the CA of the
//!   options' TLS configuration only (dmsim carries no system roots): a receiver on plain HTTP,
//!   or on HTTPS with a certificate from a CA given there. Redirects are not followed.
//! * [`deliver`] POSTs one event (`Content-Type: application/json`) and waits at most
//!   [`DELIVERY_TIMEOUT`]; any 2xx answer is a delivery, anything else a [`WebhookError`].
//! * [`spawn_delivery`] delivers the events a channel brings, one at a time in the order they
//!   came, logging each failure (dmsim's choice: a failed event is not retried, so a receiver that
//!   is down does not hold back the events after it); it never panics and ends when the channel
//!   closes.

use super::client::{build_client, error_chain};
use super::{ClientOptions, NetError};
use reqwest::header::CONTENT_TYPE;
use serde_json::Value;
use std::time::Duration;
use tokio::sync::mpsc::Receiver;
use tokio::task::JoinHandle;

/// How long one delivery may take, connection included.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why an event was not delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("webhook URL {url:?} is not an http(s) URL: {reason}")]
    Url { url: String, reason: String },
    #[error("webhook {url}: no answer within {}s", DELIVERY_TIMEOUT.as_secs())]
    Timeout { url: String },
    #[error("webhook {url}: {reason}")]
    Send { url: String, reason: String },
    #[error("webhook {url} answered HTTP {status}")]
    Status { url: String, status: u16 },
}

/// The HTTP client deliveries share (see the module docs for whom it trusts).
pub fn client(options: &ClientOptions) -> Result<reqwest::Client, NetError> {
    build_client(options, reqwest::redirect::Policy::none())
}

/// POST `body` as JSON to `url`; the HTTP status of a 2xx answer.
pub async fn deliver(
    client: &reqwest::Client,
    url: &str,
    body: &Value,
) -> Result<u16, WebhookError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| WebhookError::Url {
        url: url.to_string(),
        reason: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(WebhookError::Url {
            url: url.to_string(),
            reason: format!("scheme {:?}", parsed.scheme()),
        });
    }
    // Serialising a `Value` fails only for maps with non-string keys, which it cannot hold.
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let sent = client
        .post(parsed)
        .header(CONTENT_TYPE, "application/json")
        .timeout(DELIVERY_TIMEOUT)
        .body(bytes)
        .send()
        .await;
    let response = sent.map_err(|e| {
        if e.is_timeout() {
            WebhookError::Timeout {
                url: url.to_string(),
            }
        } else {
            WebhookError::Send {
                url: url.to_string(),
                reason: error_chain(&e),
            }
        }
    })?;
    let status = response.status().as_u16();
    if response.status().is_success() {
        Ok(status)
    } else {
        Err(WebhookError::Status {
            url: url.to_string(),
            status,
        })
    }
}

/// Deliver every `(url, body)` the channel brings, in order, until it closes (see the module
/// docs). Must be called within a tokio runtime with IO and time enabled.
pub fn spawn_delivery(
    client: reqwest::Client,
    mut events: Receiver<(String, Value)>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some((url, body)) = events.recv().await {
            match deliver(&client, &url, &body).await {
                Ok(status) => tracing::info!(url, status, "webhook delivered"),
                Err(e) => tracing::warn!(error = %e, "webhook not delivered"),
            }
        }
        tracing::debug!("webhook delivery stopped: no more events");
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_http_urls_are_delivered_to() {
        let client = client(&ClientOptions::default()).expect("client");
        for url in ["not a url", "ftp://example.test/hook", "file:///tmp/hook"] {
            let err = deliver(&client, url, &serde_json::json!({}))
                .await
                .expect_err(url);
            assert!(matches!(err, WebhookError::Url { .. }), "{url}: {err}");
        }
    }
}
