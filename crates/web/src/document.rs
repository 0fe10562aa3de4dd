//! Legal texts (privacy policy, terms) kept as plain text with `{placeholders}`, parsed into
//! headings, paragraphs and lists, then filled with the operator's details.
//!
//! The format is the policy's own: the first line is the title, `N. Title` is a section heading,
//! a line starting with `•` is a list item, any other line is a paragraph. A line that is only
//! `{data-inventory}` marks where the generated table of stored data goes.

use crate::contacts::Contacts;
use crate::text::Text;

/// A value from `[service]` that the text refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Service,
    Operator,
    Website,
    Bot,
    Email,
    Telegram,
}

impl Field {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "service" => Field::Service,
            "operator" => Field::Operator,
            "website" => Field::Website,
            "bot" => Field::Bot,
            "email" => Field::Email,
            "telegram" => Field::Telegram,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Inline {
    Text(String),
    Field(Field),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Block {
    Heading(Vec<Inline>),
    Paragraph(Vec<Inline>),
    List(Vec<Vec<Inline>>),
    DataInventory,
}

/// A parsed text, not yet filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    title: Vec<Inline>,
    blocks: Vec<Block>,
}

/// A run of text as a page shows it: plain, or a link to one of the operator's addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Span {
    Text(String),
    Link { href: String, text: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilledBlock {
    Heading(Vec<Span>),
    Paragraph(Vec<Span>),
    List(Vec<Vec<Span>>),
    /// Where the data inventory table is shown (see `Site::with_data_inventory`).
    DataInventory,
}

/// A text with every placeholder replaced, ready for the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilledDocument {
    pub title: String,
    pub blocks: Vec<FilledBlock>,
}

impl FilledDocument {
    /// The text as a reader sees it, without markup: for search and tests.
    pub fn plain_text(&self) -> String {
        let mut out = self.title.clone();
        let mut push = |spans: &[Span]| {
            out.push('\n');
            for s in spans {
                match s {
                    Span::Text(t) | Span::Link { text: t, .. } => out.push_str(t),
                }
            }
        };
        for block in &self.blocks {
            match block {
                FilledBlock::Heading(s) | FilledBlock::Paragraph(s) => push(s),
                FilledBlock::List(items) => items.iter().for_each(|s| push(s)),
                FilledBlock::DataInventory => {}
            }
        }
        out
    }
}

impl Document {
    /// Never fails: the texts are ours, and an unknown `{name}` stays visible as written so that
    /// a test can catch it.
    pub fn parse(source: &str) -> Self {
        let mut lines = source.lines().map(str::trim).filter(|l| !l.is_empty());
        let title = lines.next().map(inlines).unwrap_or_default();
        let mut blocks: Vec<Block> = Vec::new();
        for line in lines {
            if let Some(item) = line.strip_prefix('•') {
                let item = inlines(item.trim());
                match blocks.last_mut() {
                    Some(Block::List(items)) => items.push(item),
                    _ => blocks.push(Block::List(vec![item])),
                }
            } else if line == "{data-inventory}" {
                blocks.push(Block::DataInventory);
            } else if is_section_heading(line) {
                blocks.push(Block::Heading(inlines(line)));
            } else {
                blocks.push(Block::Paragraph(inlines(line)));
            }
        }
        Self { title, blocks }
    }

    #[cfg(test)]
    pub fn section_headings(&self) -> usize {
        self.blocks
            .iter()
            .filter(|b| matches!(b, Block::Heading(_)))
            .count()
    }

    pub fn fill(&self, contacts: &Contacts, text: &Text) -> FilledDocument {
        let spans = |inl: &[Inline]| fill_inlines(inl, contacts, text);
        FilledDocument {
            title: spans(&self.title)
                .into_iter()
                .map(|s| match s {
                    Span::Text(t) | Span::Link { text: t, .. } => t,
                })
                .collect(),
            blocks: self
                .blocks
                .iter()
                .map(|b| match b {
                    Block::Heading(i) => FilledBlock::Heading(spans(i)),
                    Block::Paragraph(i) => FilledBlock::Paragraph(spans(i)),
                    Block::List(items) => {
                        FilledBlock::List(items.iter().map(|i| spans(i)).collect())
                    }
                    Block::DataInventory => FilledBlock::DataInventory,
                })
                .collect(),
        }
    }
}

/// `12. Contact Information`: a number, one dot, a space, then a title (not `1.1. text`).
fn is_section_heading(line: &str) -> bool {
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && line[digits..].starts_with(". ")
}

fn inlines(line: &str) -> Vec<Inline> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(open) = rest.find('{') {
        let field = rest[open + 1..].find('}').and_then(|close| {
            Field::from_name(&rest[open + 1..open + 1 + close]).map(|f| (f, close))
        });
        match field {
            Some((f, close)) => {
                push_text(&mut out, &rest[..open]);
                out.push(Inline::Field(f));
                rest = &rest[open + close + 2..];
            }
            None => {
                push_text(&mut out, &rest[..=open]);
                rest = &rest[open + 1..];
            }
        }
    }
    push_text(&mut out, rest);
    out
}

fn push_text(out: &mut Vec<Inline>, s: &str) {
    if s.is_empty() {
        return;
    }
    match out.last_mut() {
        Some(Inline::Text(t)) => t.push_str(s),
        _ => out.push(Inline::Text(s.to_owned())),
    }
}

fn fill_inlines(inlines: &[Inline], c: &Contacts, t: &Text) -> Vec<Span> {
    let mut spans = substitute(inlines, c, t);
    // "ИП Иванов И. И." before the sentence's own full stop must not end in "..".
    for i in 1..spans.len() {
        let ends_with_dot = match &spans[i - 1] {
            Span::Text(s) | Span::Link { text: s, .. } => s.ends_with('.'),
        };
        if let (true, Span::Text(next)) = (ends_with_dot, &mut spans[i]) {
            if next.starts_with('.') && !next.starts_with("..") {
                next.remove(0);
            }
        }
    }
    spans.retain(|s| !matches!(s, Span::Text(t) if t.is_empty()));
    spans
}

fn substitute(inlines: &[Inline], c: &Contacts, t: &Text) -> Vec<Span> {
    let missing = || Span::Text(t.not_specified.to_owned());
    inlines
        .iter()
        .map(|inline| match inline {
            Inline::Text(s) => Span::Text(s.clone()),
            Inline::Field(Field::Service) => Span::Text(c.service.clone()),
            Inline::Field(Field::Operator) if c.operator.is_empty() => {
                Span::Text(t.operator_fallback.replace("{service}", &c.service))
            }
            Inline::Field(Field::Operator) => Span::Text(c.operator.clone()),
            Inline::Field(Field::Website) => Span::Link {
                href: c.site_url.join_path("/"),
                text: c.site_host.clone(),
            },
            Inline::Field(Field::Email) => match &c.email {
                Some(e) => Span::Link {
                    href: format!("mailto:{e}"),
                    text: e.clone(),
                },
                None => missing(),
            },
            Inline::Field(Field::Telegram) => match &c.support_telegram {
                Some(h) => Span::Link {
                    href: h.url(),
                    text: h.display(),
                },
                None => missing(),
            },
            Inline::Field(Field::Bot) => match &c.bot {
                Some(h) => Span::Link {
                    href: h.url(),
                    text: h.display(),
                },
                None => missing(),
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Language;

    fn contacts() -> Contacts {
        Contacts::new(&crate::SiteSettings {
            service_name: "Nimbus".into(),
            public_url: "https://nimbus.example".parse().unwrap(),
            operator: "IP Ivanov I. I.".into(),
            support_email: "help@nimbus.example".into(),
            support_telegram: "@nimbus_help".into(),
            ..Default::default()
        })
    }

    #[test]
    fn the_first_line_is_the_title_and_numbered_lines_are_headings() {
        let doc = Document::parse("Policy\n\n1. General\n\n1.1. Text.\n\n  • a\n  • b\n\nEnd\n");
        assert_eq!(doc.section_headings(), 1);
        let filled = doc.fill(&contacts(), Text::get(Language::En));
        assert_eq!(filled.title, "Policy");
        assert_eq!(
            filled.blocks,
            vec![
                FilledBlock::Heading(vec![Span::Text("1. General".into())]),
                FilledBlock::Paragraph(vec![Span::Text("1.1. Text.".into())]),
                FilledBlock::List(vec![
                    vec![Span::Text("a".into())],
                    vec![Span::Text("b".into())]
                ]),
                FilledBlock::Paragraph(vec![Span::Text("End".into())]),
            ]
        );
    }

    #[test]
    fn placeholders_become_the_operators_details_and_links() {
        let doc = Document::parse("T\nWrite to {email} or {telegram} at {website}, {operator}.");
        let filled = doc.fill(&contacts(), Text::get(Language::En));
        assert_eq!(
            filled.blocks[0],
            FilledBlock::Paragraph(vec![
                Span::Text("Write to ".into()),
                Span::Link {
                    href: "mailto:help@nimbus.example".into(),
                    text: "help@nimbus.example".into()
                },
                Span::Text(" or ".into()),
                Span::Link {
                    href: "https://t.me/nimbus_help".into(),
                    text: "@nimbus_help".into()
                },
                Span::Text(" at ".into()),
                Span::Link {
                    href: "https://nimbus.example/".into(),
                    text: "nimbus.example".into()
                },
                Span::Text(", ".into()),
                Span::Text("IP Ivanov I. I.".into()),
            ])
        );
    }

    #[test]
    fn unset_details_say_so_instead_of_leaving_a_blank() {
        let c = Contacts::new(&crate::SiteSettings::default());
        let filled =
            Document::parse("T\n{email} {bot} {operator}").fill(&c, Text::get(Language::Ru));
        assert_eq!(
            filled.blocks[0],
            FilledBlock::Paragraph(vec![
                Span::Text("(не указано)".into()),
                Span::Text(" ".into()),
                Span::Text("(не указано)".into()),
                Span::Text(" ".into()),
                Span::Text("владелец сервиса milly".into()),
            ])
        );
    }

    #[test]
    fn a_name_ending_in_a_full_stop_does_not_double_the_sentences_own() {
        let mut c = contacts();
        c.operator = "ИП Иванов И. И.".into();
        let filled =
            Document::parse("T\nThe operator is {operator}.").fill(&c, Text::get(Language::En));
        assert_eq!(filled.plain_text(), "T\nThe operator is ИП Иванов И. И.");
    }

    #[test]
    fn unknown_or_unclosed_braces_stay_as_written() {
        let doc = Document::parse("T\na {nope} b { c");
        let filled = doc.fill(&contacts(), Text::get(Language::En));
        assert_eq!(
            filled.blocks[0],
            FilledBlock::Paragraph(vec![Span::Text("a {nope} b { c".into())])
        );
    }

    #[test]
    fn the_inventory_marker_is_its_own_block() {
        let doc = Document::parse("T\n2. Data\n{data-inventory}\n");
        let filled = doc.fill(&contacts(), Text::get(Language::En));
        assert_eq!(filled.blocks[1], FilledBlock::DataInventory);
    }
}
