//! Enrollment against the real control plane: a join accepted writes node.toml and the credential the control plane now knows the node by; an unknown, used or expired token, a wrong pin, an unreachable control plane and an enrolled directory are errors that write nothing.

use feed_wire::{CertPin, JoinString, JoinToken, Refusal};
use node_agent::{enroll, Credential, EnrollError, LinkError, NODE_KEY, NODE_TOML};
use time::OffsetDateTime;

use crate::plane::Plane;
use crate::{enrolled, NODE};

/// The credential the control plane recorded for the node called `name`.
async fn credential_of(plane: &Plane, name: &str) -> Option<CertPin> {
    plane
        .app
        .node_overview()
        .await
        .unwrap()
        .into_iter()
        .find(|n| n.record.spec.name == name)
        .and_then(|n| n.record.credential)
}

fn nothing_written(dir: &std::path::Path) -> bool {
    !dir.join(NODE_TOML).exists() && !dir.join(NODE_KEY).exists()
}

#[tokio::test]
async fn a_node_joins_with_its_token_and_writes_its_config_and_own_credential() {
    let plane = Plane::start().await;
    let registered = plane.add_node("de-fra-1").await;
    let join = plane.join_string(&registered.token);
    let dir = tempfile::tempdir().unwrap();
    let enrolled = enroll(&join, &dir.path().join("node")).await.unwrap();
    assert_eq!(enrolled.node_name, "de-fra-1");
    assert_eq!(
        enrolled.config_path,
        dir.path().join("node").join(NODE_TOML)
    );

    let config = node_agent::AgentConfig::load(&enrolled.config_path).unwrap();
    assert_eq!(config.control_address, plane.address);
    assert_eq!(config.control_pin, plane.identity.pin);
    assert_eq!(config.node_name, "de-fra-1");
    assert_eq!(config.cache_dir, dir.path().join("node"));
    // The certificate the node presented is the one it keeps, and the control plane knows it
    // by that certificate from now on.
    let credential = Credential::load(&config.certificate, &config.key).unwrap();
    assert_eq!(
        credential_of(&plane, "de-fra-1").await,
        Some(credential.pin())
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&config.key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let text = std::fs::read_to_string(&enrolled.config_path).unwrap();
    assert!(text.contains("# "), "node.toml is commented");
}

/// Enrolls with `join` in a new directory: the refusal it ends in, and that nothing was written.
async fn refusal(join: &JoinString) -> Refusal {
    let dir = tempfile::tempdir().unwrap();
    let outcome = enroll(join, dir.path()).await;
    assert!(nothing_written(dir.path()), "{outcome:?} wrote files");
    match outcome {
        Err(EnrollError::Refused(reason)) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn each_refusal_is_an_error_naming_it_and_nothing_is_written() {
    let plane = Plane::start().await;

    let stranger = plane.join_string(&JoinToken::generate());
    assert_eq!(refusal(&stranger).await, Refusal::UnknownToken);

    let registered = plane.add_node(NODE).await;
    let join = plane.join_string(&registered.token);
    let first = tempfile::tempdir().unwrap();
    enroll(&join, first.path()).await.unwrap();
    assert_eq!(refusal(&join).await, Refusal::TokenUsed);

    // A token whose time ran out: given out for the node, and expired a minute ago.
    let late = JoinToken::generate();
    let expired_at = OffsetDateTime::now_utc() - time::Duration::minutes(1);
    plane
        .db
        .store
        .add_join_token(registered.node.spec.id, &late.hash(), expired_at)
        .await
        .unwrap();
    assert_eq!(
        refusal(&plane.join_string(&late)).await,
        Refusal::TokenExpired
    );
    // None of them touched the node's credential.
    let enrolled = node_agent::AgentConfig::load(&first.path().join(NODE_TOML)).unwrap();
    let credential = Credential::load(&enrolled.certificate, &enrolled.key).unwrap();
    assert_eq!(credential_of(&plane, NODE).await, Some(credential.pin()));
}

#[tokio::test]
async fn a_control_plane_whose_certificate_is_not_the_pinned_one_never_sees_the_token() {
    let plane = Plane::start().await;
    let registered = plane.add_node(NODE).await;
    let elsewhere = Plane::start().await;
    let wrong = JoinString::new(&plane.address, elsewhere.identity.pin, registered.token).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = enroll(&wrong, dir.path()).await.unwrap_err();
    assert!(
        matches!(err, EnrollError::Link(LinkError::WrongCertificate)),
        "{err:?}"
    );
    assert!(nothing_written(dir.path()));
    // The handshake failed on the node's side before the token was sent: it is still unused.
    assert_eq!(credential_of(&plane, NODE).await, None);
    let right = plane.join_string(&registered.token);
    enroll(&right, dir.path()).await.unwrap();
}

#[tokio::test]
async fn an_unreachable_control_plane_is_a_connect_error() {
    let plane = Plane::start().await;
    // A port nobody listens on any more.
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let join = JoinString::new(&address, plane.identity.pin, JoinToken::generate()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = enroll(&join, dir.path()).await.unwrap_err();
    assert!(
        matches!(err, EnrollError::Link(LinkError::Connect { .. })),
        "{err:?}"
    );
    assert!(nothing_written(dir.path()));
}

#[tokio::test]
async fn a_directory_that_holds_a_node_is_not_enrolled_again() {
    let plane = Plane::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = enrolled(&plane, dir.path()).await;
    let before = std::fs::read(&config.key).unwrap();
    let pin = credential_of(&plane, NODE).await;
    let other = plane.add_node("de-2").await;
    let err = enroll(&plane.join_string(&other.token), dir.path())
        .await
        .unwrap_err();
    assert!(matches!(err, EnrollError::AlreadyEnrolled(_)), "{err:?}");
    assert_eq!(
        std::fs::read(&config.key).unwrap(),
        before,
        "the credential is kept"
    );
    // Refused before dialling: the other node's token was never used.
    assert_eq!(credential_of(&plane, NODE).await, pin);
    assert_eq!(credential_of(&plane, "de-2").await, None);
}
