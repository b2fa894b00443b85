//! A channel that remembers what it was asked to send, for tests; it can be told to fail.

use super::{Notifier, SendError, SendResult};
use crate::alerts::Alert;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Default)]
pub struct Recording {
    sent: Arc<Mutex<Vec<Alert>>>,
    /// When set, every send fails with this message (after being recorded).
    pub fail: Option<String>,
}

impl Recording {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn failing(message: &str) -> Self {
        Self {
            fail: Some(message.to_owned()),
            ..Self::default()
        }
    }

    /// Everything sent so far, in order.
    pub fn sent(&self) -> Vec<Alert> {
        self.sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Notifier for Recording {
    fn channel(&self) -> &'static str {
        "recording"
    }

    fn send(&self, alert: &Alert) -> Pin<Box<dyn Future<Output = SendResult> + Send + 'static>> {
        self.sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(alert.clone());
        let fail = self.fail.clone();
        Box::pin(async move { fail.map_or(Ok(()), |m| Err(SendError::Simulated(m))) })
    }
}
