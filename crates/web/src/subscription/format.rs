//! Which format a subscription request gets: `?format=` first, then User-Agent rules (the
//! operator's, then the built-in ones), then a browser's `Accept: text/html`, then the base64
//! list every app understands.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubFormat {
    /// Base64 of `vless://` links, one a line (v2rayNG, Hiddify, Streisand, Happ, v2RayTun,
    /// Shadowrocket).
    Base64,
    /// A sing-box JSON profile (sing-box, SFA, SFI, SFM).
    SingBox,
    /// A Clash Meta (mihomo) YAML profile (Clash Verge, FlClash, Stash).
    Clash,
    /// The page a person sees when opening the link in a browser.
    Html,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown subscription format {0:?} (expected base64, sing-box, clash or html)")]
pub struct UnknownFormat(pub String);

impl FromStr for SubFormat {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "base64" | "links" | "v2ray" | "v2rayng" => Ok(SubFormat::Base64),
            "sing-box" | "singbox" | "json" => Ok(SubFormat::SingBox),
            "clash" | "clash-meta" | "mihomo" | "yaml" => Ok(SubFormat::Clash),
            "html" | "page" => Ok(SubFormat::Html),
            _ => Err(UnknownFormat(s.to_owned())),
        }
    }
}

impl fmt::Display for SubFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SubFormat::Base64 => "base64",
            SubFormat::SingBox => "sing-box",
            SubFormat::Clash => "clash",
            SubFormat::Html => "html",
        })
    }
}

/// "A User-Agent containing this text (any case) gets this format."
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatRule {
    pub user_agent_contains: String,
    pub format: SubFormat,
}

impl FormatRule {
    pub fn new(user_agent_contains: &str, format: SubFormat) -> Self {
        Self {
            user_agent_contains: user_agent_contains.to_ascii_lowercase(),
            format,
        }
    }

    fn matches(&self, user_agent_lower: &str) -> bool {
        !self.user_agent_contains.is_empty()
            && user_agent_lower.contains(&self.user_agent_contains.to_ascii_lowercase())
    }
}

/// The clients we know, in the order they are tried. Order matters: Hiddify's User-Agent
/// says "like ClashMeta v2ray sing-box" but it wants the link list, and Stash says "Clash".
pub fn builtin_rules() -> Vec<FormatRule> {
    use SubFormat::*;
    [
        ("hiddify", Base64),
        ("v2rayng", Base64),
        ("v2rayn", Base64),
        ("v2raytun", Base64),
        ("streisand", Base64),
        ("happ/", Base64),
        ("shadowrocket", Base64),
        ("nekobox", Base64),
        ("sing-box", SingBox),
        ("sfa/", SingBox),
        ("sfi/", SingBox),
        ("sfm/", SingBox),
        ("sft/", SingBox),
        ("clash", Clash),
        ("mihomo", Clash),
        ("stash", Clash),
        ("flclash", Clash),
    ]
    .into_iter()
    .map(|(ua, f)| FormatRule::new(ua, f))
    .collect()
}

/// Decides the format. `operator_rules` come before the built-in ones, so an operator can
/// override any of them.
pub fn choose(
    query_format: Option<&str>,
    user_agent: &str,
    accept: &str,
    operator_rules: &[FormatRule],
    builtin: &[FormatRule],
) -> SubFormat {
    if let Some(format) = query_format.and_then(|q| q.parse().ok()) {
        return format;
    }
    let ua = user_agent.to_ascii_lowercase();
    if let Some(rule) = operator_rules
        .iter()
        .chain(builtin)
        .find(|r| r.matches(&ua))
    {
        return rule.format;
    }
    if accept.to_ascii_lowercase().contains("text/html") {
        return SubFormat::Html;
    }
    SubFormat::Base64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(ua: &str, accept: &str) -> SubFormat {
        choose(None, ua, accept, &[], &builtin_rules())
    }

    #[test]
    fn each_known_client_gets_its_format() {
        let cases = [
            ("v2rayNG/1.9.30", SubFormat::Base64),
            (
                "HiddifyNext/2.5.7 (android) like ClashMeta v2ray sing-box",
                SubFormat::Base64,
            ),
            ("Streisand/1.6", SubFormat::Base64),
            ("Happ/1.4.2", SubFormat::Base64),
            ("v2raytun/android", SubFormat::Base64),
            (
                "Shadowrocket/2070 CFNetwork/1490.0.4 Darwin/23.2.0",
                SubFormat::Base64,
            ),
            ("sing-box 1.11.4", SubFormat::SingBox),
            ("SFA/1.11.4 (587; sing-box 1.11.4)", SubFormat::SingBox),
            (
                "SFI/1.10.1 (Build 2; sing-box 1.10.1; language zh_CN)",
                SubFormat::SingBox,
            ),
            ("clash-verge/v1.7.7", SubFormat::Clash),
            (
                "FlClash/v0.8.80 clash-verge Platform/android",
                SubFormat::Clash,
            ),
            ("Stash/2.4.7 Clash/1.9.0", SubFormat::Clash),
            ("mihomo/1.18.10", SubFormat::Clash),
        ];
        for (ua, expected) in cases {
            assert_eq!(pick(ua, "*/*"), expected, "{ua}");
        }
    }

    #[test]
    fn a_browser_gets_the_page_and_anything_else_the_link_list() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(
            pick(firefox, "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"),
            SubFormat::Html
        );
        assert_eq!(pick("curl/8.5.0", "*/*"), SubFormat::Base64);
        assert_eq!(pick("", ""), SubFormat::Base64);
    }

    #[test]
    fn the_query_overrides_every_rule_and_unknown_values_are_ignored() {
        let rules = builtin_rules();
        assert_eq!(
            choose(Some("clash"), "v2rayNG/1.9", "", &[], &rules),
            SubFormat::Clash
        );
        assert_eq!(
            choose(Some("sing-box"), "", "text/html", &[], &rules),
            SubFormat::SingBox
        );
        assert_eq!(
            choose(Some("nope"), "v2rayNG/1.9", "", &[], &rules),
            SubFormat::Base64
        );
    }

    #[test]
    fn operator_rules_come_before_the_built_in_ones() {
        let mine = [FormatRule::new("HIDDIFY", SubFormat::SingBox)];
        let ua = "HiddifyNext/2.5.7 (android) like ClashMeta v2ray sing-box";
        assert_eq!(
            choose(None, ua, "", &mine, &builtin_rules()),
            SubFormat::SingBox
        );
    }

    #[test]
    fn an_empty_rule_matches_nothing() {
        let mine = [FormatRule::new("", SubFormat::Clash)];
        assert_eq!(
            choose(None, "curl/8", "", &mine, &builtin_rules()),
            SubFormat::Base64
        );
    }

    #[test]
    fn format_names_round_trip() {
        for f in [
            SubFormat::Base64,
            SubFormat::SingBox,
            SubFormat::Clash,
            SubFormat::Html,
        ] {
            assert_eq!(f.to_string().parse::<SubFormat>(), Ok(f));
        }
    }
}
