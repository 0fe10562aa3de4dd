//! Remote nodes on both backends: registration, single-use enrolment, switches and reports.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use domain::{
    CertPin, ChainKey, JoinToken, Location, NodeKind, NodePrivateSettings, NodeSecurity,
    NodeStatus, RealityParams, TlsParams,
};
use store::testing::TestDb;
use store::{ControlPlaneIdentity, Enrolment, NewRemoteNode};
use time::{Duration, OffsetDateTime};

fn reality() -> NodeSecurity {
    NodeSecurity::Reality(RealityParams {
        public_key: "Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw".into(),
        short_id: "6ba85179e30d4fc2".into(),
        server_name: "www.example.org".into(),
        mldsa65_verify: None,
        transports: Vec::new(),
    })
}

fn private() -> NodePrivateSettings {
    NodePrivateSettings::Reality {
        private_key: "private".into(),
        short_ids: vec!["6ba85179e30d4fc2".into()],
        dest: "www.example.org:443".into(),
        server_names: vec!["www.example.org".into()],
        max_time_diff_ms: 60_000,
    }
}

async fn add(db: &TestDb, name: &str, token: &JoinToken) -> domain::NodeRecord {
    let location = Location("🇩🇪 Frankfurt".into());
    let node = NewRemoteNode {
        name,
        location: &location,
        public_host: "203.0.113.5",
        port: 443,
        security: &reality(),
        private: &private(),
        via: None,
        chain_key: None,
    };
    let expires = OffsetDateTime::now_utc() + Duration::hours(1);
    db.store
        .add_remote_node(&node, &token.hash(), expires)
        .await
        .unwrap()
        .unwrap()
}

async fn a_join_token_enrols_its_node_once(db: &TestDb) {
    let token = JoinToken::generate();
    let node = add(db, "eu-1", &token).await;
    assert_eq!(
        (node.kind, node.enabled, node.credential),
        (NodeKind::Remote, true, None)
    );
    let pin = CertPin::of_der(b"node certificate");
    let now = OffsetDateTime::now_utc();

    let Enrolment::Enrolled(enrolled) =
        db.store.enrol_node(&token.hash(), &pin, now).await.unwrap()
    else {
        panic!("a fresh token enrols")
    };
    assert_eq!(enrolled.credential, Some(pin));
    assert_eq!(
        db.store
            .enrol_node(&token.hash(), &CertPin::of_der(b"other"), now)
            .await
            .unwrap(),
        Enrolment::AlreadyUsed
    );
    assert_eq!(
        db.store
            .enrol_node(&JoinToken::generate().hash(), &pin, now)
            .await
            .unwrap(),
        Enrolment::Unknown
    );
    let (found, settings) = db.store.node_by_credential(&pin).await.unwrap().unwrap();
    assert_eq!((found.spec.name.as_str(), settings), ("eu-1", private()));
    assert!(db
        .store
        .node_by_credential(&CertPin::of_der(b"other"))
        .await
        .unwrap()
        .is_none());
}

async fn an_expired_token_enrols_nothing_and_a_new_one_replaces_the_credential(db: &TestDb) {
    let token = JoinToken::generate();
    let node = add(db, "eu-1", &token).await;
    let later = OffsetDateTime::now_utc() + Duration::minutes(61);
    let pin = CertPin::of_der(b"node certificate");
    assert_eq!(
        db.store
            .enrol_node(&token.hash(), &pin, later)
            .await
            .unwrap(),
        Enrolment::Expired
    );
    assert!(db.store.node_by_credential(&pin).await.unwrap().is_none());

    let second = JoinToken::generate();
    db.store
        .add_join_token(node.spec.id, &second.hash(), later + Duration::hours(1))
        .await
        .unwrap();
    assert!(matches!(
        db.store
            .enrol_node(&second.hash(), &pin, later)
            .await
            .unwrap(),
        Enrolment::Enrolled(_)
    ));
    assert!(db.store.node_by_credential(&pin).await.unwrap().is_some());
}

async fn names_are_unique_and_removal_ends_the_credential(db: &TestDb) {
    let token = JoinToken::generate();
    add(db, "eu-1", &token).await;
    let location = Location("EU".into());
    let again = NewRemoteNode {
        name: "eu-1",
        location: &location,
        public_host: "198.51.100.1",
        port: 443,
        security: &reality(),
        private: &private(),
        via: None,
        chain_key: None,
    };
    let expires = OffsetDateTime::now_utc() + Duration::hours(1);
    assert!(db
        .store
        .add_remote_node(&again, &JoinToken::generate().hash(), expires)
        .await
        .unwrap()
        .is_none());

    let pin = CertPin::of_der(b"node certificate");
    db.store
        .enrol_node(&token.hash(), &pin, OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert!(db.store.delete_node("eu-1").await.unwrap());
    assert!(db.store.node_by_credential(&pin).await.unwrap().is_none());
    assert_eq!(
        db.store
            .enrol_node(&token.hash(), &pin, OffsetDateTime::now_utc())
            .await
            .unwrap(),
        Enrolment::Unknown,
        "the node's tokens went with it"
    );
}

async fn disabled_nodes_leave_the_links_but_not_the_operators_list(db: &TestDb) {
    let tls = NodeSecurity::Tls(TlsParams {
        server_name: "vpn.example.com".into(),
        allow_insecure: true,
        transports: Vec::new(),
    });
    let embedded = db
        .store
        .upsert_node(
            "local",
            &Location("RU".into()),
            "vpn.example.com",
            443,
            &tls,
        )
        .await
        .unwrap();
    add(db, "eu-1", &JoinToken::generate()).await;
    add(db, "eu-2", &JoinToken::generate()).await;
    let names =
        |nodes: Vec<domain::NodeSpec>| nodes.into_iter().map(|n| n.name).collect::<Vec<_>>();
    assert_eq!(
        names(db.store.list_nodes().await.unwrap()),
        ["local", "eu-1", "eu-2"]
    );

    assert!(db.store.set_node_enabled("eu-1", false).await.unwrap());
    assert!(!db.store.set_node_enabled("nowhere", false).await.unwrap());
    assert_eq!(
        names(db.store.list_nodes().await.unwrap()),
        ["local", "eu-2"]
    );
    let all = db.store.node_records().await.unwrap();
    assert_eq!(
        all.iter()
            .map(|n| (n.spec.name.as_str(), n.enabled))
            .collect::<Vec<_>>(),
        [("local", true), ("eu-1", false), ("eu-2", true)]
    );
    assert_eq!(all[0].kind, NodeKind::Embedded);
    assert_eq!(
        db.store.node_record("local").await.unwrap().unwrap().spec,
        embedded
    );
}

async fn a_node_report_replaces_the_last_one(db: &TestDb) {
    let node = add(db, "eu-1", &JoinToken::generate()).await;
    let seen = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let mut status = NodeStatus {
        software_version: "0.1.0".into(),
        applied_revision: 7,
        connections: 3,
        bytes_up: 1 << 40,
        bytes_down: 5,
        last_seen_at: seen,
    };
    db.store
        .record_node_status(node.spec.id, &status)
        .await
        .unwrap();
    status.applied_revision = 9;
    db.store
        .record_node_status(node.spec.id, &status)
        .await
        .unwrap();
    assert_eq!(
        db.store.node_statuses().await.unwrap(),
        vec![(node.spec.id, status)]
    );
}

async fn the_control_plane_identity_is_made_once(db: &TestDb) {
    let first = ControlPlaneIdentity {
        certificate_pem: "first certificate".into(),
        private_key_pem: "first key".into(),
        feed_epoch: "00112233445566778899aabbccddeeff".into(),
    };
    let second = ControlPlaneIdentity {
        certificate_pem: "second certificate".into(),
        ..first.clone()
    };
    assert_eq!(
        db.store.control_plane_identity(&first).await.unwrap(),
        first
    );
    assert_eq!(
        db.store.control_plane_identity(&second).await.unwrap(),
        first
    );
    assert!(!format!("{first:?}").contains("first key"));
    db.store
        .renew_feed_epoch("ffeeddccbbaa99887766554433221100")
        .await
        .unwrap();
    assert_eq!(
        db.store
            .control_plane_identity(&first)
            .await
            .unwrap()
            .feed_epoch,
        "ffeeddccbbaa99887766554433221100"
    );
}

async fn an_entry_knows_its_exit_and_key_and_the_exit_its_enabled_entries(db: &TestDb) {
    let exit = add(db, "eu-1", &JoinToken::generate()).await;
    let key = ChainKey::generate();
    let location = Location("🇷🇺 Moscow".into());
    let entry = NewRemoteNode {
        name: "ru-1",
        location: &location,
        public_host: "198.51.100.7",
        port: 443,
        security: &reality(),
        private: &private(),
        via: Some(exit.spec.id),
        chain_key: Some(key),
    };
    let expires = OffsetDateTime::now_utc() + Duration::hours(1);
    let entry = db
        .store
        .add_remote_node(&entry, &JoinToken::generate().hash(), expires)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        db.store.chain_exit(entry.spec.id).await.unwrap(),
        Some((exit.spec.clone(), key))
    );
    assert_eq!(db.store.chain_exit(exit.spec.id).await.unwrap(), None);
    assert_eq!(
        db.store.chain_keys_via(exit.spec.id).await.unwrap(),
        vec![key]
    );
    // Clients read the entry with its exit's location; the exit without one.
    let listed = db.store.list_nodes().await.unwrap();
    let exits: Vec<_> = listed
        .iter()
        .map(|n| (n.name.as_str(), n.exits_via.clone()))
        .collect();
    assert_eq!(
        exits,
        [
            ("eu-1", None),
            ("ru-1", Some(Location("🇩🇪 Frankfurt".into())))
        ]
    );
    // A disabled entry is no longer let through.
    db.store.set_node_enabled("ru-1", false).await.unwrap();
    assert!(db
        .store
        .chain_keys_via(exit.spec.id)
        .await
        .unwrap()
        .is_empty());
    // Pointed elsewhere later: a new key; and then through nothing.
    db.store.set_node_enabled("ru-1", true).await.unwrap();
    let other = ChainKey::generate();
    db.store
        .set_node_via(entry.spec.id, Some(exit.spec.id), Some(other))
        .await
        .unwrap();
    assert_eq!(
        db.store.chain_keys_via(exit.spec.id).await.unwrap(),
        vec![other]
    );
    db.store
        .set_node_via(entry.spec.id, None, None)
        .await
        .unwrap();
    assert_eq!(db.store.chain_exit(entry.spec.id).await.unwrap(), None);
    assert!(db
        .store
        .chain_keys_via(exit.spec.id)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        db.store.node_record("ru-1").await.unwrap().unwrap().via,
        None
    );
}

store::backend_tests!(
    an_entry_knows_its_exit_and_key_and_the_exit_its_enabled_entries,
    a_join_token_enrols_its_node_once,
    an_expired_token_enrols_nothing_and_a_new_one_replaces_the_credential,
    names_are_unique_and_removal_ends_the_credential,
    disabled_nodes_leave_the_links_but_not_the_operators_list,
    a_node_report_replaces_the_last_one,
    the_control_plane_identity_is_made_once,
);
