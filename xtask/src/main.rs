//! `cargo run -p xtask -- code-map`: prints where the workspace disagrees with ARCHITECTURE.md.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("code-map") {
        eprintln!("usage: cargo run -p xtask -- code-map");
        return ExitCode::from(2);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let markdown = match std::fs::read_to_string(root.join("ARCHITECTURE.md")) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("cannot read ARCHITECTURE.md: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = xtask::CodeMap::parse(&markdown)
        .map_err(|e| e.to_string())
        .and_then(|map| {
            let workspace = xtask::Workspace::load(&root).map_err(|e| e.to_string())?;
            Ok(xtask::check(&workspace, &map))
        });
    match outcome {
        Ok(violations) if violations.is_empty() => {
            println!("the workspace agrees with ARCHITECTURE.md's code map");
            ExitCode::SUCCESS
        }
        Ok(violations) => {
            for v in &violations {
                println!("{v}");
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
