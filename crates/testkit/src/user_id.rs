//! A link's user id as third-party configs and logs spell it, and the same link for someone
//! else: links themselves are `client::ClientLink`, parsed exactly as `milly client` parses them.

use client::ClientLink;

/// The link's user id in its usual spelling (lowercase, hyphenated): what peers' configs take,
/// and what must never show up in a log.
pub fn user_uuid(link: &ClientLink) -> String {
    uuid::Uuid::from_bytes(link.user_id)
        .hyphenated()
        .to_string()
}

/// The same link for the user `uuid`, e.g. to play a client whose id the server does not know.
/// `uuid` is a test's constant; a malformed one fails the test.
pub fn with_user(link: &ClientLink, uuid: &str) -> ClientLink {
    let id = uuid::Uuid::parse_str(uuid).unwrap_or_else(|e| panic!("{uuid}: {e}"));
    ClientLink {
        user_id: *id.as_bytes(),
        ..link.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: &str = "vless://B831381D-6324-4d53-ad4f-8cda48b30811@h:1?security=tls#n";

    #[test]
    fn the_user_id_is_spelled_lowercase_with_hyphens() {
        let link = ClientLink::parse(LINK).unwrap();
        assert_eq!(user_uuid(&link), "b831381d-6324-4d53-ad4f-8cda48b30811");
    }

    #[test]
    fn another_user_keeps_the_rest_of_the_link() {
        let link = ClientLink::parse(LINK).unwrap();
        let other = with_user(&link, "0e0e0e0e-0000-4000-8000-0e0e0e0e0e0e");
        assert_eq!(user_uuid(&other), "0e0e0e0e-0000-4000-8000-0e0e0e0e0e0e");
        assert_eq!(
            (other.host, other.port, other.name),
            ("h".into(), 1, "n".into())
        );
        assert_eq!(other.security, link.security);
    }
}
