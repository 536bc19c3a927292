//! Content from the embedded mock server, in the same process ([`InProcessContent`]): the
//! [`ContentClient`] of in-process scenario runs and tests. No sockets and no sleeping: a server
//! delay longer than the client's timeout becomes [`FetchError::Timeout`] at once, and anything
//! else is passed through as the server answered it, so a device sees what it would over HTTP.

use crate::download::client::parse_url;
use crate::download::{ContentClient, FetchError};
use crate::protocol::http::{ContentRequest, ContentResponse, DEFAULT_REQUEST_TIMEOUT};
use crate::server::MockServer;
use std::sync::Arc;
use std::time::Duration;

/// The mock server, called directly: no sockets, no sleeping. Cheap to clone.
#[derive(Clone)]
pub struct InProcessContent {
    server: Arc<MockServer>,
    timeout: Duration,
}

impl InProcessContent {
    /// A client of `server` with the default request timeout ([`DEFAULT_REQUEST_TIMEOUT`], as
    /// over HTTP).
    pub fn new(server: Arc<MockServer>) -> InProcessContent {
        InProcessContent {
            server,
            timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }

    /// With another timeout: a server delay longer than this is [`FetchError::Timeout`].
    pub fn with_timeout(mut self, timeout: Duration) -> InProcessContent {
        self.timeout = timeout;
        self
    }

    fn exchange(&self, request: &ContentRequest) -> Result<ContentResponse, FetchError> {
        let mut response = self.server.content(request);
        match response.delay.take() {
            Some(delay) if delay > self.timeout => Err(FetchError::Timeout),
            _ => Ok(response),
        }
    }
}

impl ContentClient for InProcessContent {
    async fn get(&self, url: &str, range_from: Option<u64>) -> Result<ContentResponse, FetchError> {
        self.get_authorized(url, range_from, None).await
    }

    async fn get_authorized(
        &self,
        url: &str,
        range_from: Option<u64>,
        authorization: Option<&str>,
    ) -> Result<ContentResponse, FetchError> {
        parse_url(url)?;
        self.exchange(&ContentRequest::get(url, range_from).with_authorization(authorization))
    }

    async fn post(&self, url: &str, content_type: &str, body: Vec<u8>) -> Result<u16, FetchError> {
        parse_url(url)?;
        self.exchange(&ContentRequest::post(url, content_type, body))
            .map(|r| r.status)
    }
}
