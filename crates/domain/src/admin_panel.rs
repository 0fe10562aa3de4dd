//! The admin web panel's secrets and records: the one-time login link the bot gives an admin
//! (`/admin`), the session it opens, the session's CSRF token, and the audit list's actions.
//! Tokens are random, stored only as SHA-256 hashes, and their `Debug` prints nothing.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::secret::{is_url_safe_of_len, random_url_safe};
use crate::InvalidId;

/// How long a login link from the bot's `/admin` works (once).
pub const ADMIN_LOGIN_LIFETIME_MINUTES: u32 = 10;
/// A session ends after this long without a request.
pub const ADMIN_SESSION_IDLE_HOURS: u32 = 12;
/// A session ends this long after sign-in, however busy.
pub const ADMIN_SESSION_MAX_DAYS: u32 = 7;
/// Days an audit entry is kept.
pub const ADMIN_AUDIT_RETENTION_DAYS: u32 = 365;

/// A login-link or session secret: 256 bits from the OS's CSPRNG, in URL-safe base64.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken(String);

impl AdminToken {
    pub const RANDOM_BYTES: usize = 32;

    pub fn generate() -> Self {
        Self(random_url_safe::<{ Self::RANDOM_BYTES }>())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the store keeps and looks the token up by.
    pub fn hash(&self) -> AdminTokenHash {
        AdminTokenHash(digest(&[self.0.as_bytes()]))
    }

    /// The session's CSRF token: derived from the session secret (a different hash than the
    /// stored one), so it is random per session, needs no storage and dies with the session.
    pub fn csrf(&self) -> String {
        digest(&[b"milly admin csrf\0", self.0.as_bytes()])
    }
}

fn digest(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hasher.finalize())
}

impl FromStr for AdminToken {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !is_url_safe_of_len(s, Self::RANDOM_BYTES) {
            return Err(InvalidId::MalformedAdminToken);
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(..)")
    }
}

/// The stored form of an [`AdminToken`]: base64url of its SHA-256.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminTokenHash(String);

impl AdminTokenHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AdminTokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminTokenHash(..)")
    }
}

/// What an admin did, as the audit list names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdminAction {
    SignIn,
    SignOut,
    ExtendUser,
    BlockUser,
    UnblockUser,
    DeleteUser,
    ExportUser,
    RefundPayment,
    AddNode,
    DisableNode,
    EnableNode,
    SendBroadcast,
    PreviewBroadcast,
}

impl AdminAction {
    pub const ALL: [AdminAction; 13] = [
        AdminAction::SignIn,
        AdminAction::SignOut,
        AdminAction::ExtendUser,
        AdminAction::BlockUser,
        AdminAction::UnblockUser,
        AdminAction::DeleteUser,
        AdminAction::ExportUser,
        AdminAction::RefundPayment,
        AdminAction::AddNode,
        AdminAction::DisableNode,
        AdminAction::EnableNode,
        AdminAction::SendBroadcast,
        AdminAction::PreviewBroadcast,
    ];

    /// The stored name.
    pub fn code(self) -> &'static str {
        match self {
            AdminAction::SignIn => "sign_in",
            AdminAction::SignOut => "sign_out",
            AdminAction::ExtendUser => "user.extend",
            AdminAction::BlockUser => "user.block",
            AdminAction::UnblockUser => "user.unblock",
            AdminAction::DeleteUser => "user.delete",
            AdminAction::ExportUser => "user.export",
            AdminAction::RefundPayment => "payment.refund",
            AdminAction::AddNode => "node.add",
            AdminAction::DisableNode => "node.disable",
            AdminAction::EnableNode => "node.enable",
            AdminAction::SendBroadcast => "broadcast.send",
            AdminAction::PreviewBroadcast => "broadcast.preview",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct_round_trip_and_hide_in_debug() {
        let a = AdminToken::generate();
        assert_ne!(a, AdminToken::generate());
        assert_eq!(a.as_str().parse::<AdminToken>(), Ok(a.clone()));
        assert!(!format!("{a:?}").contains(a.as_str()));
        assert!(!format!("{:?}", a.hash()).contains(a.hash().as_str()));
        assert!("short".parse::<AdminToken>().is_err());
    }

    #[test]
    fn the_csrf_token_is_neither_the_secret_nor_its_stored_hash() {
        let a = AdminToken::generate();
        assert_eq!(a.csrf(), a.csrf());
        assert_ne!(a.csrf(), a.as_str());
        assert_ne!(a.csrf(), a.hash().as_str());
        assert_ne!(a.csrf(), AdminToken::generate().csrf());
    }

    #[test]
    fn every_action_round_trips_through_its_code() {
        for action in AdminAction::ALL {
            assert_eq!(AdminAction::from_code(action.code()), Some(action));
        }
        assert_eq!(AdminAction::from_code("nope"), None);
    }
}
