//! ARCHITECTURE.md read as rules: the code map's order, its dev-only crates, its dependency rules.

#[derive(Debug, thiserror::Error)]
pub enum CodeMapError {
    #[error("ARCHITECTURE.md has no `## {0}` section")]
    MissingSection(&'static str),
    #[error("ARCHITECTURE.md's dependency rule cannot be read: {0}")]
    UnreadableRule(String),
}

/// A third-party crate kept to some crates, or kept out of some.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DependencyRule {
    /// "`sqlx` is used by `store` only."
    Only {
        dependencies: Vec<String>,
        users: Vec<String>,
    },
    /// "`tokio` is used by none of `domain`, `vless`."
    NoneOf {
        dependencies: Vec<String>,
        crates: Vec<String>,
    },
}

#[derive(Debug, Clone, Default)]
pub struct CodeMap {
    /// Product crates' directories (`crates/store`), top of the map first: each may use only
    /// those after it.
    pub layers: Vec<String>,
    /// Directories of crates that only tests, benchmarks and tools use.
    pub dev_only: Vec<String>,
    pub rules: Vec<DependencyRule>,
}

const CODE_MAP: &str = "Code map";
const RULES: &str = "Dependency rules";

impl CodeMap {
    pub fn parse(markdown: &str) -> Result<Self, CodeMapError> {
        let map = section(markdown, CODE_MAP).ok_or(CodeMapError::MissingSection(CODE_MAP))?;
        let layers = map
            .lines()
            .filter_map(|line| line.strip_prefix("- `"))
            .filter_map(|rest| rest.split('`').next())
            .filter(|path| path.starts_with("crates/"))
            .map(str::to_owned)
            .collect();
        let dev_only = paragraphs(map)
            .into_iter()
            .filter(|p| p.starts_with("Dev-only crates"))
            .flat_map(|p| backticked(&p))
            .map(|name| name.trim_end_matches('/').to_owned())
            .collect();
        let rules = match section(markdown, RULES) {
            Some(text) => bullets(text)
                .iter()
                .map(|b| parse_rule(b))
                .collect::<Result<_, _>>()?,
            None => return Err(CodeMapError::MissingSection(RULES)),
        };
        Ok(Self {
            layers,
            dev_only,
            rules,
        })
    }

    /// Where the crate in `dir` (relative, `crates/web`) stands in the map, top first.
    pub fn layer_of(&self, dir: &str) -> Option<usize> {
        self.layers.iter().position(|d| d == dir)
    }

    pub fn is_dev_only(&self, dir: &str) -> bool {
        self.dev_only.iter().any(|d| d == dir)
    }
}

/// The text under `## title`, up to the next `## ` heading.
fn section<'a>(markdown: &'a str, title: &str) -> Option<&'a str> {
    let heading = format!("## {title}");
    let start = markdown.find(&heading)? + heading.len();
    let rest = &markdown[start..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    Some(&rest[..end])
}

fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// Markdown bullets with their wrapped continuation lines joined.
fn bullets(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        if let Some(item) = line.strip_prefix("- ") {
            out.push(item.trim().to_owned());
        } else if line.starts_with("  ") && !line.trim().is_empty() {
            if let Some(last) = out.last_mut() {
                last.push(' ');
                last.push_str(line.trim());
            }
        }
    }
    out
}

fn backticked(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn parse_rule(bullet: &str) -> Result<DependencyRule, CodeMapError> {
    let unreadable = || CodeMapError::UnreadableRule(bullet.to_owned());
    let (left, right) = bullet.split_once(" used by ").ok_or_else(unreadable)?;
    let dependencies = backticked(left);
    let crates = backticked(right);
    if dependencies.is_empty() || crates.is_empty() {
        return Err(unreadable());
    }
    if right.trim_start().starts_with("none of") {
        Ok(DependencyRule::NoneOf {
            dependencies,
            crates,
        })
    } else if right.trim_end().trim_end_matches('.').ends_with("only") {
        Ok(DependencyRule::Only {
            dependencies,
            users: crates,
        })
    } else {
        Err(unreadable())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# Architecture\n\n## Code map\n\nDependencies point down.\n\n\
        - `crates/milly` — the binary.\n  More words.\n- `crates/web` — the website.\n\
        - `crates/domain` — nouns.\n\nDev-only crates: `crates/testkit` (peers) and\n\
        `bench/load`; `fuzz/` is apart.\n\n## Dependency rules\n\n\
        - `sqlx` is used by `store` only.\n- `tokio`, `mio` are used by none of `domain`,\n  `vless`.\n\n\
        ## Invariants\n\n- `x` is used by nothing here.\n";

    #[test]
    fn the_map_lists_product_crates_in_order_and_the_dev_only_ones_apart() {
        let map = CodeMap::parse(SAMPLE).expect("parses");
        assert_eq!(map.layers, ["crates/milly", "crates/web", "crates/domain"]);
        assert_eq!(map.layer_of("crates/web"), Some(1));
        assert!(map.is_dev_only("crates/testkit"));
        assert!(map.is_dev_only("bench/load"));
        assert!(!map.is_dev_only("crates/web"));
    }

    #[test]
    fn rules_read_both_shapes_across_wrapped_lines() {
        let map = CodeMap::parse(SAMPLE).expect("parses");
        assert_eq!(
            map.rules,
            [
                DependencyRule::Only {
                    dependencies: vec!["sqlx".into()],
                    users: vec!["store".into()]
                },
                DependencyRule::NoneOf {
                    dependencies: vec!["tokio".into(), "mio".into()],
                    crates: vec!["domain".into(), "vless".into()]
                },
            ]
        );
    }

    #[test]
    fn a_rule_in_another_shape_is_an_error_not_ignored() {
        let text = "## Code map\n\n## Dependency rules\n\n- `sqlx` is used by `store` mostly.\n";
        assert!(matches!(
            CodeMap::parse(text),
            Err(CodeMapError::UnreadableRule(_))
        ));
    }

    #[test]
    fn a_missing_rules_section_is_an_error() {
        assert!(matches!(
            CodeMap::parse("## Code map\n\n- `crates/a` — a.\n"),
            Err(CodeMapError::MissingSection(RULES))
        ));
    }
}
