//! Dispatch from a parsed command line to the command that runs it.

mod backup;
mod client;
mod config_check;
mod doctor;
mod init;
mod keygen;
pub(crate) mod node;
mod node_agent;
mod payment;
mod privacy;
mod promo;
mod serve;
mod signal;
mod user;
mod version;

use std::path::PathBuf;

use anyhow::Result;

use crate::cli::{Cli, CliCommand, ConfigCommand, KeygenCommand, NodeCommand, DEFAULT_CONFIG};

pub async fn run(cli: Cli) -> Result<()> {
    let explicit = cli.config.is_some();
    let path = cli.config.unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG));
    match cli.command {
        CliCommand::Init(args) => init::run(&args),
        CliCommand::Version => {
            version::run();
            Ok(())
        }
        CliCommand::Client(args) => client::run(args).await,
        CliCommand::Keygen(KeygenCommand::Reality) => keygen::reality(),
        CliCommand::Config(ConfigCommand::Check) => config_check::run(&load(&path, explicit)?),
        CliCommand::Serve => serve::run(load(&path, explicit)?).await,
        CliCommand::Doctor(args) => doctor::run(&path, explicit, args.ca).await,
        CliCommand::Payment(cmd) => {
            let loaded = load(&path, explicit)?;
            let app = open_app(&loaded.config).await?;
            payment::run(&app, cmd).await
        }
        CliCommand::Promo(cmd) => {
            let loaded = load(&path, explicit)?;
            let app = open_app(&loaded.config).await?;
            promo::run(&app, cmd).await
        }
        CliCommand::User(cmd) => {
            let loaded = load(&path, explicit)?;
            let app = open_app(&loaded.config).await?;
            user::run(&app, cmd).await
        }
        CliCommand::Privacy(cmd) => privacy::run(&load(&path, explicit)?.config, cmd).await,
        CliCommand::Backup(cmd) => backup::run(&load(&path, explicit)?.config, cmd).await,
        CliCommand::Node(NodeCommand::Join { join, dir }) => node_agent::join(&join, &dir).await,
        CliCommand::Node(NodeCommand::Run) => {
            let path = if explicit {
                path
            } else {
                PathBuf::from(node_agent::DEFAULT_NODE_CONFIG)
            };
            node_agent::run(&path).await
        }
        CliCommand::Node(cmd) => {
            let loaded = load(&path, explicit)?;
            let app = open_app(&loaded.config).await?;
            node::run(&app, &loaded.config, cmd).await
        }
    }
}

fn load(path: &std::path::Path, explicit: bool) -> Result<config::Loaded> {
    let loaded = config::load(path, explicit)?;
    crate::logging::set_format(loaded.config.log.format);
    Ok(loaded)
}

/// The store and use cases, with the embedded node registered so links can be printed.
pub async fn open_app(config: &config::Config) -> Result<app::App> {
    crate::data_dir::ensure(&config.service.data_dir)?;
    let store = store::Store::connect(config.database.url.expose()).await?;
    let app = app::App::new(store, crate::settings::app(config));
    crate::embedded_node::register_embedded_node(&app, config).await?;
    Ok(app)
}
