//! milly.toml: configuration types, loading with `MILLY_<SECTION>__<KEY>` environment overrides,
//! validation that names the file and key at fault, and the commented template `milly init`
//! writes.

mod control;
mod load;
mod model;
mod price;
mod reload;
mod remote_nodes;
mod template;
mod validate;

pub use control::ControlConfig;
pub use domain::{DatabaseUrl, Secret};
pub use load::{load, ConfigError, ConfigSource, Loaded};
pub use model::*;
pub use price::Rubles;
pub use reload::{reload, Reload};
pub use remote_nodes::{RemoteNodeSection, RemoteNodeSections};
pub use template::{render_template, TemplateSecrets, DEFAULT_REALITY_DEST};
