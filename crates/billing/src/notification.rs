//! Incoming YooKassa notifications, received: the sender checked, the body parsed. Nothing in
//! the body is believed: it only names a payment (or a refund), which the caller then looks up
//! through the API.

use std::net::IpAddr;

use http::HeaderMap;

use crate::SourcePolicy;

pub mod body;

use body::{read_notification, NotificationBody};

/// A notification from YooKassa's networks that names something we track, or says it does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// One of the payment events, about the payment with this YooKassa id.
    Payment { id: String },
    /// A refund event, about the refund with this YooKassa id.
    Refund { id: String },
    /// About something we do not track (other events and objects).
    Ignored,
}

/// Why a notification is not even looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The sender is not YooKassa.
    ForbiddenSource,
    /// Not a notification at all.
    Malformed,
}

impl SourcePolicy {
    /// Checks the sender of one notification from `peer` (the TCP peer; see [`SourcePolicy`]
    /// for proxies) and reads only the event name and the object's id from `body`.
    pub fn receive(
        &self,
        peer: IpAddr,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Notice, Refused> {
        if !self.admits(peer, headers) {
            return Err(Refused::ForbiddenSource);
        }
        match read_notification(body) {
            NotificationBody::Malformed => Err(Refused::Malformed),
            NotificationBody::Ignored => Ok(Notice::Ignored),
            NotificationBody::Payment { id } => Ok(Notice::Payment { id }),
            NotificationBody::Refund { id } => Ok(Notice::Refund { id }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sender_is_checked_before_the_body_is_read() {
        let policy = SourcePolicy::default();
        let body = br#"{"type":"notification","event":"payment.succeeded","object":{"id":"p1"}}"#;
        let stranger: IpAddr = "203.0.113.9".parse().unwrap();
        let yookassa: IpAddr = "185.71.76.5".parse().unwrap();
        let h = HeaderMap::new();
        assert_eq!(
            policy.receive(stranger, &h, body),
            Err(Refused::ForbiddenSource)
        );
        assert_eq!(
            policy.receive(stranger, &h, b"junk"),
            Err(Refused::ForbiddenSource)
        );
        assert_eq!(
            policy.receive(yookassa, &h, body),
            Ok(Notice::Payment { id: "p1".into() })
        );
        assert_eq!(
            policy.receive(yookassa, &h, b"junk"),
            Err(Refused::Malformed)
        );
    }
}
