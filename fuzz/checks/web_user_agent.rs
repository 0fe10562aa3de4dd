//! What must hold for the choice of a subscription's format (`web::subscription::format`) on
//! any request a client app or a stranger sends. Shared by the fuzz target and a stable test;
//! the includer provides the rules' module as `crate::format`.
//!
//! Input: NUL-separated fields: query `format`, User-Agent, Accept, then operator rules as
//! `text=format` (a missing query field means no `?format=`).

use crate::format::{builtin_rules, choose, FormatRule, SubFormat};

const ALL: [SubFormat; 4] = [
    SubFormat::Base64,
    SubFormat::SingBox,
    SubFormat::Clash,
    SubFormat::Html,
];

/// Chooses for the request `data` describes; panics (a finding) if the rules' contract breaks.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut fields = text.split('\0');
    let query = fields.next().filter(|q| !q.is_empty());
    let user_agent = fields.next().unwrap_or("");
    let accept = fields.next().unwrap_or("");
    let operator: Vec<FormatRule> = fields
        .filter_map(|rule| {
            let (ua, format) = rule.rsplit_once('=')?;
            Some(FormatRule::new(ua, format.parse().ok()?))
        })
        .collect();
    let builtin = builtin_rules();
    let chosen = choose(query, user_agent, accept, &operator, &builtin);

    // Format names round-trip, and a query naming a format always wins.
    for format in ALL {
        assert_eq!(format.to_string().parse::<SubFormat>(), Ok(format));
    }
    if let Some(Ok(format)) = query.map(str::parse::<SubFormat>) {
        assert_eq!(chosen, format, "the query did not win");
        return;
    }
    // ASCII case never matters.
    assert_eq!(
        choose(
            query,
            &user_agent.to_ascii_uppercase(),
            &accept.to_ascii_uppercase(),
            &operator,
            &builtin
        ),
        chosen,
        "case changed the choice"
    );
    // An operator rule for a piece of this User-Agent comes before every other rule.
    let cut = user_agent.len() / 2;
    if let Some(piece) = user_agent.get(cut..).filter(|p| !p.trim().is_empty()) {
        for format in ALL {
            let mine = [FormatRule::new(piece, format)];
            assert_eq!(choose(query, user_agent, accept, &mine, &builtin), format);
        }
    }
    // No rule matching and no browser: the list every app understands.
    let lower = user_agent.to_ascii_lowercase();
    let any_rule = operator
        .iter()
        .chain(&builtin)
        .any(|r| !r.user_agent_contains.is_empty() && lower.contains(&r.user_agent_contains));
    if !any_rule && !accept.to_ascii_lowercase().contains("text/html") {
        assert_eq!(chosen, SubFormat::Base64);
    }
    if !any_rule && accept.to_ascii_lowercase().contains("text/html") {
        assert_eq!(chosen, SubFormat::Html);
    }
}
