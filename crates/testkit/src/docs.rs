//! Configurations the docs show, as tests run them: a fenced block out of `docs/`, with the
//! placeholders an operator fills in replaced by the test's own values. A replacement whose
//! placeholder is gone fails, so a test cannot silently drift from the page it proves.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DocError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{doc} has no ```{info} block")]
    NoBlock { doc: String, info: String },
    #[error("{doc}'s ```{info} block has more than one")]
    SeveralBlocks { doc: String, info: String },
    #[error("the recipe no longer contains `{0}`: the test must follow the doc")]
    Missing(String),
}

/// The repository's `docs/` directory.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

/// The one fenced block of `doc` (a file in `docs/`) whose info string is `info`, without its
/// fences.
pub fn fenced_block(doc: &str, info: &str) -> Result<Recipe, DocError> {
    let path = dir().join(doc);
    let text = std::fs::read_to_string(&path).map_err(|source| DocError::Read { path, source })?;
    let opening = format!("```{info}");
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim_end() == opening {
            let body: Vec<&str> = lines
                .by_ref()
                .take_while(|l| l.trim_end() != "```")
                .collect();
            blocks.push(body.join("\n") + "\n");
        }
    }
    let (doc, info) = (doc.to_owned(), info.to_owned());
    match blocks.len() {
        0 => Err(DocError::NoBlock { doc, info }),
        1 => Ok(Recipe {
            text: blocks.remove(0),
        }),
        _ => Err(DocError::SeveralBlocks { doc, info }),
    }
}

/// A configuration from the docs on its way to a test's own values.
#[derive(Debug, Clone)]
pub struct Recipe {
    text: String,
}

impl Recipe {
    /// Every `placeholder` replaced by `value`; an error when there is none.
    pub fn replace(self, placeholder: &str, value: &str) -> Result<Self, DocError> {
        if !self.text.contains(placeholder) {
            return Err(DocError::Missing(placeholder.to_owned()));
        }
        Ok(Recipe {
            text: self.text.replace(placeholder, value),
        })
    }

    /// Each line for which `edit` answers `Some` replaced by that answer.
    pub fn edit_lines(self, edit: impl Fn(&str) -> Option<String>) -> Self {
        let text = self
            .text
            .lines()
            .map(|line| edit(line).unwrap_or_else(|| line.to_owned()) + "\n")
            .collect();
        Recipe { text }
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transports_doc_has_one_nginx_block_and_its_placeholders() {
        let recipe = fenced_block("transports.md", "nginx").unwrap();
        assert!(recipe.text().starts_with("server {"));
        let filled = recipe
            .replace("/YOUR-NODE-HTTP-PATH/", "/p/")
            .unwrap()
            .edit_lines(|l| (l.trim() == "access_log off;").then(|| "# gone".to_owned()));
        assert!(filled.text().contains("location /p/ {"));
        assert!(filled.text().contains("# gone\n"));
        assert!(matches!(
            filled.replace("/YOUR-NODE-HTTP-PATH/", "/q/"),
            Err(DocError::Missing(_))
        ));
    }

    #[test]
    fn a_block_the_doc_lacks_is_an_error() {
        assert!(matches!(
            fenced_block("transports.md", "no-such-language"),
            Err(DocError::NoBlock { .. })
        ));
    }
}
