//! Puts the commit milly is built from into the binary (`milly version`, `/healthz`):
//! `MILLY_BUILD_COMMIT` when the builder sets it (a container build has no `.git`), else git's
//! short hash, else "unknown".

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=MILLY_BUILD_COMMIT");
    let commit = std::env::var("MILLY_BUILD_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=MILLY_BUILD_COMMIT={}", commit.trim());
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn git_commit() -> Option<String> {
    let hash = git(&["rev-parse", "--short=12", "HEAD"])?;
    // Rebuild when HEAD moves: watch HEAD and the ref it names (paths that exist only, or
    // cargo would rebuild every time).
    for path in [
        git(&["rev-parse", "--git-path", "HEAD"]),
        git(&["rev-parse", "--symbolic-full-name", "HEAD"])
            .and_then(|r| git(&["rev-parse", "--git-path", &r])),
    ]
    .into_iter()
    .flatten()
    {
        let path = PathBuf::from(path);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    Some(hash)
}
