//! What can go wrong on the control plane's side of the node link.

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error(transparent)]
    App(#[from] app::AppError),
    #[error("the control plane's certificate cannot be used: {0}")]
    Certificate(String),
    #[error("cannot make the control plane's identity: {0}")]
    Generate(String),
    #[error("the control plane's address for join strings is unusable: {0}")]
    Address(#[from] feed_wire::JoinError),
    #[error("the node link broke: {0}")]
    Io(#[from] std::io::Error),
    #[error("a node sent an unreadable message: {0}")]
    Frame(#[from] feed_wire::FrameError),
    #[error("a node's stored settings are unusable: {0}")]
    Settings(&'static str),
}
