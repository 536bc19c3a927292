//! The in-process transport ([`InProcess`]): the embedded mock server's service called directly.

use crate::protocol::http::{HttpRequest, HttpResponse};
use crate::server::MockServer;
use crate::transport::{Transport, TransportError};
use std::sync::Arc;

/// Delivers requests straight to a [`MockServer`] in the same process.
#[derive(Clone)]
pub struct InProcess {
    server: Arc<MockServer>,
}

impl InProcess {
    pub fn new(server: Arc<MockServer>) -> InProcess {
        InProcess { server }
    }
}

impl Transport for InProcess {
    async fn exchange(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let response = self.server.handle(&request);
        if (200..300).contains(&response.status) {
            Ok(response)
        } else {
            Err(TransportError::Http {
                status: response.status,
                reason: String::from_utf8_lossy(&response.body).into_owned(),
            })
        }
    }
}
