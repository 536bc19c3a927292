//! The in-process transport ([`InProcess`]): the embedded mock server's service called directly.
//!
//! An answer the server sends late (a `slow` session fault) is waited for on tokio's clock, up to
//! the transport's request timeout ([`DEFAULT_REQUEST_TIMEOUT`] unless told otherwise, as over
//! HTTP): later than that, the exchange fails with [`TransportError::Timeout`], as a request over
//! HTTP times out. Under paused tokio time (scenario runs, tests) the wait is simulated and costs
//! nothing.

use crate::protocol::http::{HttpRequest, HttpResponse, DEFAULT_REQUEST_TIMEOUT};
use crate::server::MockServer;
use crate::transport::{Transport, TransportError};
use std::sync::Arc;
use std::time::Duration;

/// Delivers requests straight to a [`MockServer`] in the same process.
#[derive(Clone)]
pub struct InProcess {
    server: Arc<MockServer>,
    timeout: Duration,
}

impl InProcess {
    pub fn new(server: Arc<MockServer>) -> InProcess {
        InProcess {
            server,
            timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }

    /// With another request timeout: an answer later than this fails the exchange.
    pub fn with_timeout(mut self, timeout: Duration) -> InProcess {
        self.timeout = timeout;
        self
    }
}

impl Transport for InProcess {
    async fn exchange(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let answer = self.server.answer(&request);
        if let Some(delay) = answer.delay {
            if tokio::time::timeout(self.timeout, tokio::time::sleep(delay))
                .await
                .is_err()
            {
                let millis = u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX);
                return Err(TransportError::Timeout(millis));
            }
        }
        let response = answer.response;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{ServerConfig, SessionFault, SessionFaultKind};

    fn server(delay: Duration) -> Arc<MockServer> {
        Arc::new(MockServer::new(ServerConfig {
            session_faults: vec![SessionFault {
                session: 1,
                message: 1,
                kind: SessionFaultKind::Slow(delay),
            }],
            ..ServerConfig::default()
        }))
    }

    fn request() -> HttpRequest {
        HttpRequest {
            url: "http://dm.test/dm".into(),
            content_type: "application/vnd.syncml.dm+xml".into(),
            hmac: None,
            body: br#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>http://dm.test/dm</LocURI></Target><Source><LocURI>IMEI:1</LocURI></Source></SyncHdr><SyncBody><Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Final/></SyncBody></SyncML>"#.to_vec(),
        }
    }

    /// An answer later than the timeout is a timeout, on tokio's clock; one within it arrives.
    #[tokio::test(start_paused = true)]
    async fn a_late_answer_times_out_on_the_simulated_clock() {
        let late = InProcess::new(server(Duration::from_secs(120)));
        let started = tokio::time::Instant::now();
        assert_eq!(
            late.exchange(request()).await,
            Err(TransportError::Timeout(60_000))
        );
        assert_eq!(started.elapsed(), DEFAULT_REQUEST_TIMEOUT);
        let slow = InProcess::new(server(Duration::from_secs(5)));
        let answer = slow.exchange(request()).await.expect("answered in time");
        assert_eq!(answer.status, 200);
        assert_eq!(started.elapsed(), Duration::from_secs(65));
        let impatient =
            InProcess::new(server(Duration::from_secs(5))).with_timeout(Duration::from_secs(1));
        assert!(matches!(
            impatient.exchange(request()).await,
            Err(TransportError::Timeout(1000))
        ));
    }
}
