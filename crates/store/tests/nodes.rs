//! Nodes on both backends.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use domain::{Location, NodeSecurity, RealityParams, TlsParams};
use store::testing::TestDb;

fn reality() -> NodeSecurity {
    NodeSecurity::Reality(RealityParams {
        public_key: "Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw".into(),
        short_id: "6ba85179e30d4fc2".into(),
        server_name: "www.example.org".into(),
        mldsa65_verify: None,
        transports: Vec::new(),
    })
}

async fn nodes_are_added_replaced_listed_and_deleted(db: &TestDb) {
    let eu = Location("EU".into());
    let ru = Location("RU".into());
    let tls = NodeSecurity::Tls(TlsParams {
        server_name: "vpn.example.com".into(),
        allow_insecure: true,
        transports: Vec::new(),
    });
    let a = db
        .store
        .upsert_node("eu-1", &eu, "203.0.113.5", 443, &reality())
        .await
        .unwrap();
    let b = db
        .store
        .upsert_node("ru-1", &ru, "vpn.example.com", 8443, &tls)
        .await
        .unwrap();
    assert_eq!(
        (a.name.as_str(), a.port, &a.security),
        ("eu-1", 443, &reality())
    );
    assert_eq!(
        db.store.list_nodes().await.unwrap(),
        vec![a.clone(), b.clone()]
    );

    let moved = db
        .store
        .upsert_node("eu-1", &eu, "198.51.100.7", 444, &tls)
        .await
        .unwrap();
    assert_eq!(moved.id, a.id, "replacing keeps the node's id");
    assert_eq!(
        (moved.public_host.as_str(), moved.port, &moved.security),
        ("198.51.100.7", 444, &tls)
    );
    assert_eq!(db.store.node("eu-1").await.unwrap(), Some(moved.clone()));

    assert!(db.store.delete_node("eu-1").await.unwrap());
    assert!(!db.store.delete_node("eu-1").await.unwrap());
    assert_eq!(db.store.list_nodes().await.unwrap(), vec![b]);
    assert_eq!(db.store.node("eu-1").await.unwrap(), None);
}

store::backend_tests!(nodes_are_added_replaced_listed_and_deleted);
