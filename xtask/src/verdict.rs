//! The check: the workspace's manifests and sources against the code map.

use std::fmt;
use std::path::Path;

use crate::code_map::{CodeMap, DependencyRule};
use crate::metadata::{DependencyKind, Package, Workspace};
use crate::usage;

/// One way the workspace disagrees with ARCHITECTURE.md.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// A workspace crate the code map does not mention.
    Unmapped { package: String },
    /// A product crate uses one listed above it (or itself above none: the map's order).
    UsesUpward { package: String, dependency: String },
    /// A product crate depends (not for tests) on a dev-only crate.
    UsesDevOnly { package: String, dependency: String },
    /// A third-party crate reserved to others.
    Reserved {
        package: String,
        dependency: String,
        users: Vec<String>,
    },
    /// A third-party crate kept out of this one.
    KeptOut { package: String, dependency: String },
    /// A declared dependency the crate's code never names.
    Unused {
        package: String,
        dependency: String,
        kind: DependencyKind,
    },
    /// A rule names a crate that is not in the workspace.
    UnknownInRule { name: String },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unmapped { package } => write!(
                f,
                "`{package}` is not in ARCHITECTURE.md's code map (a bullet, or the dev-only paragraph)"
            ),
            Self::UsesUpward { package, dependency } => write!(
                f,
                "`{package}` uses `{dependency}`, which the code map lists above it: dependencies point down the list"
            ),
            Self::UsesDevOnly { package, dependency } => write!(
                f,
                "`{package}` depends on the dev-only crate `{dependency}` outside [dev-dependencies]"
            ),
            Self::Reserved { package, dependency, users } => write!(
                f,
                "`{package}` uses `{dependency}`, which the dependency rules reserve to {}",
                users.join(", ")
            ),
            Self::KeptOut { package, dependency } => write!(
                f,
                "`{package}` uses `{dependency}`, which the dependency rules keep out of it"
            ),
            Self::Unused { package, dependency, kind } => write!(
                f,
                "`{package}` declares `{dependency}` ({kind:?}) but its code never names it; remove it, \
                 or list it under [package.metadata.code-map] used-without-naming with a comment why"
            ),
            Self::UnknownInRule { name } => {
                write!(f, "a dependency rule names `{name}`, which is no workspace crate")
            }
        }
    }
}

/// Everything in `workspace` that disagrees with `map`, in a stable order.
pub fn check(workspace: &Workspace, map: &CodeMap) -> Vec<Violation> {
    let mut found = Vec::new();
    for package in &workspace.packages {
        let dir = relative_dir(&workspace.root, &package.dir);
        let layer = map.layer_of(&dir);
        if layer.is_none() && !map.is_dev_only(&dir) {
            found.push(Violation::Unmapped {
                package: package.name.clone(),
            });
        }
        if let Some(layer) = layer {
            check_layering(workspace, map, package, layer, &mut found);
            check_rules(map, package, &mut found);
        }
        check_unused(package, &mut found);
    }
    for rule in &map.rules {
        let named = match rule {
            DependencyRule::Only { users, .. } => users,
            DependencyRule::NoneOf { crates, .. } => crates,
        };
        for name in named {
            if workspace.package(name).is_none() {
                found.push(Violation::UnknownInRule { name: name.clone() });
            }
        }
    }
    found
}

fn check_layering(
    workspace: &Workspace,
    map: &CodeMap,
    package: &Package,
    layer: usize,
    found: &mut Vec<Violation>,
) {
    for dep in package
        .dependencies
        .iter()
        .filter(|d| d.kind != DependencyKind::Dev)
    {
        let Some(target) = workspace.package(&dep.package) else {
            continue;
        };
        let target_dir = relative_dir(&workspace.root, &target.dir);
        match map.layer_of(&target_dir) {
            Some(below) if below > layer => {}
            Some(_) => found.push(Violation::UsesUpward {
                package: package.name.clone(),
                dependency: dep.package.clone(),
            }),
            None => found.push(Violation::UsesDevOnly {
                package: package.name.clone(),
                dependency: dep.package.clone(),
            }),
        }
    }
}

fn check_rules(map: &CodeMap, package: &Package, found: &mut Vec<Violation>) {
    for dep in package
        .dependencies
        .iter()
        .filter(|d| d.kind != DependencyKind::Dev)
    {
        for rule in &map.rules {
            match rule {
                DependencyRule::Only {
                    dependencies,
                    users,
                } if dependencies.contains(&dep.package) && !users.contains(&package.name) => {
                    found.push(Violation::Reserved {
                        package: package.name.clone(),
                        dependency: dep.package.clone(),
                        users: users.clone(),
                    });
                }
                DependencyRule::NoneOf {
                    dependencies,
                    crates,
                } if dependencies.contains(&dep.package) && crates.contains(&package.name) => {
                    found.push(Violation::KeptOut {
                        package: package.name.clone(),
                        dependency: dep.package.clone(),
                    });
                }
                _ => {}
            }
        }
    }
}

fn check_unused(package: &Package, found: &mut Vec<Violation>) {
    let dir = &package.dir;
    let product = usage::sources(&[dir.join("src"), dir.join("build.rs")]);
    let build = usage::sources(&[dir.join("build.rs")]);
    let all = usage::sources(&[
        dir.join("src"),
        dir.join("build.rs"),
        dir.join("tests"),
        dir.join("benches"),
        dir.join("examples"),
    ]);
    for dep in &package.dependencies {
        if package.used_without_naming.contains(&dep.package) {
            continue;
        }
        let code = match dep.kind {
            DependencyKind::Normal => &product,
            DependencyKind::Build => &build,
            DependencyKind::Dev => &all,
        };
        if !usage::names(code, &dep.ident) {
            found.push(Violation::Unused {
                package: package.name.clone(),
                dependency: dep.package.clone(),
                kind: dep.kind,
            });
        }
    }
}

fn relative_dir(root: &Path, dir: &Path) -> String {
    dir.strip_prefix(root)
        .unwrap_or(dir)
        .to_string_lossy()
        .replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::PathBuf;

    use super::*;
    use crate::metadata::Dependency;

    fn package(root: &Path, name: &str, code: &str, deps: &[(&str, DependencyKind)]) -> Package {
        let dir = root.join("crates").join(name);
        fs::create_dir_all(dir.join("src")).expect("mkdir");
        fs::write(dir.join("src/lib.rs"), code).expect("write");
        Package {
            name: name.into(),
            dir,
            dependencies: deps
                .iter()
                .map(|(d, kind)| Dependency {
                    package: (*d).into(),
                    ident: d.replace('-', "_"),
                    kind: *kind,
                })
                .collect(),
            used_without_naming: Vec::new(),
        }
    }

    fn map() -> CodeMap {
        CodeMap {
            layers: vec!["crates/app".into(), "crates/store".into()],
            dev_only: vec!["crates/testkit".into()],
            rules: vec![DependencyRule::Only {
                dependencies: vec!["sqlx".into()],
                users: vec!["store".into()],
            }],
        }
    }

    fn workspace(root: PathBuf, packages: Vec<Package>) -> Workspace {
        Workspace { root, packages }
    }

    #[test]
    fn a_workspace_that_follows_the_map_has_no_violations() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().to_path_buf();
        let ws = workspace(
            root.clone(),
            vec![
                package(
                    &root,
                    "app",
                    "use store::Store;",
                    &[("store", DependencyKind::Normal)],
                ),
                package(
                    &root,
                    "store",
                    "fn f() { sqlx::query(); }",
                    &[("sqlx", DependencyKind::Normal)],
                ),
                package(&root, "testkit", "", &[]),
            ],
        );
        assert_eq!(check(&ws, &map()), []);
    }

    #[test]
    fn upward_dev_only_reserved_and_unused_dependencies_are_each_reported() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().to_path_buf();
        let ws = workspace(
            root.clone(),
            vec![
                package(
                    &root,
                    "app",
                    "fn f() { sqlx::query(); testkit::x(); }",
                    &[
                        ("sqlx", DependencyKind::Normal),
                        ("testkit", DependencyKind::Normal),
                    ],
                ),
                package(
                    &root,
                    "store",
                    "use app;",
                    &[
                        ("app", DependencyKind::Normal),
                        ("tokio", DependencyKind::Dev),
                    ],
                ),
                package(&root, "testkit", "", &[]),
                package(&root, "stray", "", &[]),
            ],
        );
        let found = check(&ws, &map());
        for expected in [
            Violation::UsesDevOnly {
                package: "app".into(),
                dependency: "testkit".into(),
            },
            Violation::Reserved {
                package: "app".into(),
                dependency: "sqlx".into(),
                users: vec!["store".into()],
            },
            Violation::UsesUpward {
                package: "store".into(),
                dependency: "app".into(),
            },
            Violation::Unused {
                package: "store".into(),
                dependency: "tokio".into(),
                kind: DependencyKind::Dev,
            },
            Violation::Unmapped {
                package: "stray".into(),
            },
        ] {
            assert!(found.contains(&expected), "{expected:?} not in {found:?}");
        }
        assert_eq!(found.len(), 5, "{found:?}");
    }
}
