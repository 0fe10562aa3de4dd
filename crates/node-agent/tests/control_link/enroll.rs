//! Enrollment: a join accepted writes node.toml and the credential; refusals, a wrong pin and an enrolled directory are errors that write nothing.

use std::time::Duration;

use feed_wire::{JoinString, JoinToken, Refusal, ToControl, ToNode};
use node_agent::{enroll, Credential, EnrollError, LinkError, NODE_TOML};

use crate::enrolled;
use testkit::feed_control::{ControlCredential, FakeControl};

#[tokio::test]
async fn a_node_joins_with_its_token_and_writes_its_config_and_own_credential() {
    let mut fake = FakeControl::start().await;
    let dir = tempfile::tempdir().unwrap();
    let join = fake.join_string([9; 32]);
    let path = dir.path().join("node");
    let joining = tokio::spawn(async move { enroll(&join, &path).await });
    let mut conn = fake.accept().await;
    assert_eq!(
        conn.recv().await,
        ToControl::Join {
            protocol_version: feed_wire::PROTOCOL_VERSION,
            token: JoinToken::from_bytes([9; 32]),
        }
    );
    conn.send(&ToNode::Joined {
        node_name: "de-fra-1".into(),
    })
    .await;
    let enrolled = joining.await.unwrap().unwrap();
    assert_eq!(enrolled.node_name, "de-fra-1");
    assert_eq!(
        enrolled.config_path,
        dir.path().join("node").join(NODE_TOML)
    );

    let config = node_agent::AgentConfig::load(&enrolled.config_path).unwrap();
    assert_eq!(config.control_address, fake.address);
    assert_eq!(config.control_pin, fake.pin());
    assert_eq!(config.node_name, "de-fra-1");
    assert_eq!(config.cache_dir, dir.path().join("node"));
    // The certificate the node presented is the one it keeps: its identity from now on.
    let credential = Credential::load(&config.certificate, &config.key).unwrap();
    assert_eq!(credential.pin(), conn.node_pin);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&config.key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let text = std::fs::read_to_string(&enrolled.config_path).unwrap();
    assert!(text.contains("# "), "node.toml is commented");
}

#[tokio::test]
async fn each_refusal_is_an_error_naming_it_and_nothing_is_written() {
    for reason in [
        Refusal::UnknownToken,
        Refusal::TokenUsed,
        Refusal::TokenExpired,
        Refusal::Unsupported,
    ] {
        let mut fake = FakeControl::start().await;
        let dir = tempfile::tempdir().unwrap();
        let join = fake.join_string([1; 32]);
        let path = dir.path().to_owned();
        let joining = tokio::spawn(async move { enroll(&join, &path).await });
        let mut conn = fake.accept().await;
        conn.recv().await;
        conn.send(&ToNode::Refused { reason }).await;
        match joining.await.unwrap() {
            Err(EnrollError::Refused(r)) => assert_eq!(r, reason),
            other => panic!("{reason:?}: {other:?}"),
        }
        assert!(!dir.path().join(NODE_TOML).exists());
        assert!(!dir.path().join(node_agent::NODE_KEY).exists());
    }
}

#[tokio::test]
async fn a_control_plane_whose_certificate_is_not_the_pinned_one_never_sees_the_token() {
    let mut fake = FakeControl::start().await;
    let other = ControlCredential::generate();
    let join = JoinString::new(&fake.address, other.pin(), JoinToken::from_bytes([5; 32])).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = enroll(&join, dir.path()).await.unwrap_err();
    assert!(
        matches!(err, EnrollError::Link(LinkError::WrongCertificate)),
        "{err:?}"
    );
    // The handshake failed on the node's side: no connection reached the control plane.
    assert!(!fake.connected_within(Duration::from_millis(200)).await);
    assert!(!dir.path().join(NODE_TOML).exists());
}

#[tokio::test]
async fn an_unreachable_control_plane_is_a_connect_error() {
    // A port nobody listens on any more.
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let pin = ControlCredential::generate().pin();
    let join = JoinString::new(&address, pin, JoinToken::from_bytes([5; 32])).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = enroll(&join, dir.path()).await.unwrap_err();
    assert!(
        matches!(err, EnrollError::Link(LinkError::Connect { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_directory_that_holds_a_node_is_not_enrolled_again() {
    let mut fake = FakeControl::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = enrolled(&mut fake, dir.path()).await;
    let before = std::fs::read(&config.key).unwrap();
    let err = enroll(&fake.join_string([4; 32]), dir.path())
        .await
        .unwrap_err();
    assert!(matches!(err, EnrollError::AlreadyEnrolled(_)), "{err:?}");
    assert_eq!(
        std::fs::read(&config.key).unwrap(),
        before,
        "the credential is kept"
    );
}
