//! The milly website (axum): public pages, privacy policy, subscription endpoint; also the node's fallback for probes.
