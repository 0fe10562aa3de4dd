//! The workspace's packages and their declared dependencies, read from `cargo metadata`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error("cannot run `cargo metadata`: {0}")]
    Spawn(#[from] std::io::Error),
    #[error("`cargo metadata` failed: {0}")]
    Failed(String),
    #[error("cannot read `cargo metadata`'s output: {0}")]
    Json(#[from] serde_json::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DependencyKind {
    Normal,
    Build,
    Dev,
}

#[derive(Debug, Clone)]
pub struct Dependency {
    /// The package's name (`splice-copy`).
    pub package: String,
    /// The name code refers to it by (`splice_copy`, or the rename).
    pub ident: String,
    pub kind: DependencyKind,
}

#[derive(Debug, Clone)]
pub struct Package {
    pub name: String,
    /// The directory holding its Cargo.toml.
    pub dir: PathBuf,
    pub dependencies: Vec<Dependency>,
    /// Dependencies the manifest declares used without being named in code (feature or version
    /// pins), from `[package.metadata.code-map] used-without-naming = ["..."]`.
    pub used_without_naming: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
    pub packages: Vec<Package>,
}

impl Workspace {
    /// Runs `cargo metadata --no-deps` for the workspace at `root`.
    pub fn load(root: &Path) -> Result<Self, MetadataError> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(cargo)
            .args([
                "metadata",
                "--format-version",
                "1",
                "--no-deps",
                "--offline",
            ])
            .current_dir(root)
            .output()?;
        if !output.status.success() {
            return Err(MetadataError::Failed(
                String::from_utf8_lossy(&output.stderr).into_owned(),
            ));
        }
        Self::from_json(&output.stdout)
    }

    pub fn from_json(json: &[u8]) -> Result<Self, MetadataError> {
        let raw: RawMetadata = serde_json::from_slice(json)?;
        let packages = raw
            .packages
            .into_iter()
            .filter(|p| raw.workspace_members.contains(&p.id))
            .map(Package::from)
            .collect();
        Ok(Self {
            root: raw.workspace_root,
            packages,
        })
    }

    pub fn package(&self, name: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.name == name)
    }
}

impl From<RawPackage> for Package {
    fn from(raw: RawPackage) -> Self {
        let dir = raw
            .manifest_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let dependencies = raw
            .dependencies
            .into_iter()
            .map(|d| Dependency {
                ident: d.rename.unwrap_or_else(|| d.name.clone()).replace('-', "_"),
                package: d.name,
                kind: match d.kind.as_deref() {
                    Some("dev") => DependencyKind::Dev,
                    Some("build") => DependencyKind::Build,
                    _ => DependencyKind::Normal,
                },
            })
            .collect();
        let used_without_naming = raw
            .metadata
            .and_then(|m| m.code_map)
            .map(|c| c.used_without_naming)
            .unwrap_or_default();
        Self {
            name: raw.name,
            dir,
            dependencies,
            used_without_naming,
        }
    }
}

#[derive(Deserialize)]
struct RawMetadata {
    packages: Vec<RawPackage>,
    workspace_members: Vec<String>,
    workspace_root: PathBuf,
}

#[derive(Deserialize)]
struct RawPackage {
    id: String,
    name: String,
    manifest_path: PathBuf,
    dependencies: Vec<RawDependency>,
    metadata: Option<RawPackageMetadata>,
}

#[derive(Deserialize)]
struct RawDependency {
    name: String,
    rename: Option<String>,
    kind: Option<String>,
}

#[derive(Deserialize)]
struct RawPackageMetadata {
    #[serde(rename = "code-map")]
    code_map: Option<RawCodeMapMetadata>,
}

#[derive(Deserialize)]
struct RawCodeMapMetadata {
    #[serde(rename = "used-without-naming", default)]
    used_without_naming: Vec<String>,
}
