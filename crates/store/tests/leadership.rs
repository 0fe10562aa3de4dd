//! Leadership among processes on one database: one leader on PostgreSQL, handed over when its
//! session ends; SQLite's single process always leads.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use store::testing::TestDb;
use store::{Backend, Store};

async fn one_process_leads_and_another_takes_over_when_it_lets_go(db: &TestDb) {
    let other = Store::connect(&db.url).await.unwrap();
    let mut lease = db
        .store
        .try_lead()
        .await
        .unwrap()
        .expect("the first process leads");
    assert!(lease.still_held().await);
    if db.store.backend() == Backend::Sqlite {
        // One process per SQLite file: nothing to hand over.
        return;
    }
    assert!(
        other.try_lead().await.unwrap().is_none(),
        "only one leader at a time"
    );
    assert!(
        other.try_lead().await.unwrap().is_none(),
        "asking again does not take it either"
    );
    lease.release().await;
    let taken = other.try_lead().await.unwrap();
    assert!(
        taken.is_some(),
        "released leadership is taken by the next to ask"
    );
    drop(taken);
    // Dropping a lease closes its session: the lock goes with it.
    let mut again = None;
    for _ in 0..50 {
        again = db.store.try_lead().await.unwrap();
        if again.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(again.is_some(), "a dropped lease is given up");
}

store::backend_tests!(one_process_leads_and_another_takes_over_when_it_lets_go);
