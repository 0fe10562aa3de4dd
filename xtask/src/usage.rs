//! Whether a crate's code names a dependency: `name::`, `use name`, or `extern crate name`.

use std::fs;
use std::path::{Path, PathBuf};

/// The Rust sources below `dirs` (and the files among them), comment lines left out.
pub fn sources(dirs: &[PathBuf]) -> String {
    let mut files = Vec::new();
    for dir in dirs {
        collect_rust_files(dir, &mut files);
    }
    let mut text = String::new();
    for file in files {
        let Ok(content) = fs::read_to_string(&file) else {
            continue;
        };
        for line in content.lines() {
            if !line.trim_start().starts_with("//") {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    text
}

fn collect_rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_file() {
        if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.to_path_buf());
        }
        return;
    }
    let Ok(entries) = fs::read_dir(path) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        collect_rust_files(&p, out);
    }
}

/// Whether `code` refers to the crate `ident` as a path root, an import or an extern crate.
pub fn names(code: &str, ident: &str) -> bool {
    let bytes = code.as_bytes();
    let mut from = 0;
    while let Some(found) = code[from..].find(ident) {
        let start = from + found;
        let end = start + ident.len();
        from = end;
        let before = start.checked_sub(1).map(|i| bytes[i]);
        if before.is_some_and(is_ident_byte) || before == Some(b':') {
            continue;
        }
        let after = &code[end..];
        if after
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            continue;
        }
        if after.trim_start().starts_with("::") {
            return true;
        }
        let head = code[..start].trim_end();
        if head.ends_with("use") || head.ends_with("extern crate") {
            let word_start = head.len() - if head.ends_with("use") { 3 } else { 12 };
            let prior = head[..word_start].chars().next_back();
            if prior.is_none_or(|c| !c.is_alphanumeric() && c != '_') {
                return true;
            }
        }
    }
    false
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

#[cfg(test)]
mod tests {
    use super::names;

    #[test]
    fn a_path_an_import_or_an_extern_crate_names_the_crate() {
        assert!(names("let x = tokio::spawn(f);", "tokio"));
        assert!(names("#[derive(serde::Serialize)]", "serde"));
        assert!(names("use sqlx;", "sqlx"));
        assert!(names("pub use vless as wire;", "vless"));
        assert!(names("extern crate ring;", "ring"));
        assert!(names("use  tokio :: net;", "tokio"));
    }

    #[test]
    fn a_longer_word_a_nested_path_or_a_plain_word_does_not() {
        assert!(!names("let tokio_handle = 1;", "tokio"));
        assert!(!names("my_tokio::spawn()", "tokio"));
        assert!(!names("crate::store::Store", "store"));
        assert!(!names("let store = Store::new();", "store"));
        assert!(!names("fn reuse store() {}", "store"));
    }
}
