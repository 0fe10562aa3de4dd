//! The real control plane in-process (`control::serve` over an `app::App` on a throwaway SQLite store), driven as the operator drives it, and stopped or brought back on the same address.

use std::sync::atomic::{AtomicI64, Ordering};

use app::{App, Registered};
use control::session::SessionContext;
use control::{ControlIdentity, FeedHub};
use domain::{
    Days, Location, NodePrivateSettings, NodeSecurity, NodeStatus, RealityParams, TelegramId,
    UserId, UserRef,
};
use feed_wire::{JoinString, JoinToken, NodeSettings, SecuritySettings};
use node::CancellationToken;
use store::testing::TestDb;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use vless::UserKey;

/// The port every test node is registered with.
pub const NODE_PORT: u16 = 8443;
/// `[0x11; 32]` as `milly keygen` prints a key: unpadded base64url.
const PRIVATE_KEY: &str = "ERERERERERERERERERERERERERERERERERERERERERE";

/// A listener with its own shutdown; dropping it stops it.
pub struct Listening {
    pub address: String,
    stop: CancellationToken,
    task: JoinHandle<Result<(), control::ControlError>>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A person the operator added, with the key the node's table knows them by.
#[derive(Debug, Clone, Copy)]
pub struct Member {
    pub id: UserId,
    pub key: UserKey,
}

/// The control plane, its database and the operator's hands on it.
pub struct Plane {
    pub app: App,
    pub db: TestDb,
    pub identity: ControlIdentity,
    pub address: String,
    listening: Option<Listening>,
    next_telegram_id: AtomicI64,
}

impl Plane {
    pub async fn start() -> Plane {
        let db = TestDb::sqlite().await;
        let app = App::new(db.store.clone(), app::AppSettings::default());
        let identity = ControlIdentity::load_or_create(&app).await.unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let listening = serve(&app, listener, identity.clone());
        Plane {
            app,
            db,
            identity,
            address,
            listening: Some(listening),
            next_telegram_id: AtomicI64::new(1000),
        }
    }

    /// Stops listening and ends every node's connection, as `milly serve` does on SIGTERM.
    pub async fn stop(&mut self) {
        if let Some(mut listening) = self.listening.take() {
            listening.stop.cancel();
            (&mut listening.task).await.unwrap().unwrap();
        }
    }

    /// Stops (if running) and serves again on the same address with the same identity.
    pub async fn restart(&mut self) {
        self.stop().await;
        let listener = TcpListener::bind(&self.address).await.unwrap();
        self.listening = Some(serve(&self.app, listener, self.identity.clone()));
    }

    /// Another listener for the same nodes and users that presents `identity` instead.
    pub async fn serve_as(&self, identity: ControlIdentity) -> Listening {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        serve(&self.app, listener, identity)
    }

    /// Registers a remote node called `name`, as `milly node add` does.
    pub async fn add_node(&self, name: &str) -> Registered {
        self.app.add_remote_node(&plan(name)).await.unwrap()
    }

    /// The join string that `token` is handed out in.
    pub fn join_string(&self, token: &JoinToken) -> JoinString {
        self.identity.join_string(&self.address, token).unwrap()
    }

    /// Adds `count` people with 30 days of access each.
    pub async fn add_users(&self, count: usize) -> Vec<Member> {
        let now = OffsetDateTime::now_utc();
        let mut members = Vec::with_capacity(count);
        for _ in 0..count {
            let telegram_id = TelegramId(self.next_telegram_id.fetch_add(1, Ordering::Relaxed));
            let view = self
                .app
                .add_user(telegram_id, Some(Days(30)), now)
                .await
                .unwrap();
            let credentials = self.db.store.credentials(view.user.id).await.unwrap();
            members.push(Member {
                id: view.user.id,
                key: UserKey(*credentials.unwrap().vless_uuid.as_bytes()),
            });
        }
        members
    }

    pub async fn block(&self, member: &Member) {
        let who = UserRef(member.id.0);
        let now = OffsetDateTime::now_utc();
        self.app.set_blocked(who, true, now).await.unwrap();
    }

    /// The access revision the store is at.
    pub async fn revision(&self) -> u64 {
        u64::try_from(self.app.access_revision().await.unwrap()).unwrap()
    }

    /// What the control plane last recorded from the node called `name`.
    pub async fn status(&self, name: &str) -> Option<NodeStatus> {
        self.app
            .node_overview()
            .await
            .unwrap()
            .into_iter()
            .find(|n| n.record.spec.name == name)
            .and_then(|n| n.status)
    }

    /// Waits until the control plane has recorded a report from `name` that `wanted` accepts.
    pub async fn wait_for_status(
        &self,
        name: &str,
        wanted: impl Fn(&NodeStatus) -> bool,
    ) -> NodeStatus {
        let deadline = tokio::time::Instant::now() + crate::PATIENCE;
        loop {
            if let Some(status) = self.status(name).await.filter(|s| wanted(s)) {
                return status;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out: a report from {name}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

fn serve(app: &App, listener: TcpListener, identity: ControlIdentity) -> Listening {
    let address = listener.local_addr().unwrap().to_string();
    let stop = CancellationToken::new();
    let ctx = SessionContext {
        app: app.clone(),
        hub: FeedHub::start(app.clone(), stop.clone()),
        identity,
    };
    let task = tokio::spawn(control::serve(listener, ctx, stop.clone()));
    Listening {
        address,
        stop,
        task,
    }
}

fn plan(name: &str) -> app::RemoteNodePlan {
    app::RemoteNodePlan {
        name: name.to_owned(),
        location: Location("🇩🇪 Frankfurt".into()),
        public_host: "203.0.113.5".into(),
        port: NODE_PORT,
        security: NodeSecurity::Reality(RealityParams {
            public_key: "Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw".into(),
            short_id: "0123abcd".into(),
            server_name: "www.example.com".into(),
            mldsa65_verify: None,
            transports: Vec::new(),
        }),
        private: NodePrivateSettings::Reality {
            private_key: PRIVATE_KEY.into(),
            short_ids: vec!["0123abcd".into()],
            dest: "www.example.com:443".into(),
            server_names: vec!["www.example.com".into()],
            max_time_diff_ms: 60_000,
        },
        via: None,
    }
}

/// What a node registered by [`Plane::add_node`] must be told.
pub fn expected_settings() -> NodeSettings {
    NodeSettings {
        port: NODE_PORT,
        security: SecuritySettings::Reality {
            private_key: [0x11; 32],
            short_ids: vec!["0123abcd".into()],
            dest: "www.example.com:443".into(),
            server_names: vec!["www.example.com".into()],
            max_time_diff_ms: 60_000,
            mldsa65_seed: None,
        },
        upstream: None,
        peer_keys: vec![],
        http: Default::default(),
    }
}
