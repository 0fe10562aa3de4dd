//! Telegram's `parse_mode=HTML`: the tags Telegram accepts become message entities with offsets
//! in UTF-16 code units, the text keeps only what is between them, and a malformed message is
//! refused with Telegram's "can't parse entities" error.

use serde_json::{json, Value};

/// Plain text and entities of an HTML-formatted message.
pub(crate) fn parse(html: &str) -> Result<(String, Vec<Value>), String> {
    let mut text = String::new();
    let mut utf16_len = 0usize;
    let mut open: Vec<(String, usize, Option<String>)> = Vec::new();
    let mut entities = Vec::new();
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        if c == '<' {
            let end = rest
                .find('>')
                .ok_or_else(|| cant_parse("unclosed start tag"))?;
            let tag = &rest[1..end];
            rest = &rest[end + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                let name = name.trim().to_ascii_lowercase();
                let (opened, start, href) =
                    open.pop().ok_or_else(|| cant_parse("unexpected end tag"))?;
                if opened != name {
                    return Err(cant_parse("unmatched end tag"));
                }
                let mut entity = json!({
                    "type": entity_type(&name)?, "offset": start, "length": utf16_len - start,
                });
                if let Some(url) = href {
                    entity["url"] = json!(url);
                }
                entities.push(entity);
            } else {
                let (name, attrs) = tag.split_once(' ').unwrap_or((tag, ""));
                let name = name.to_ascii_lowercase();
                entity_type(&name)?;
                let href = attrs
                    .trim()
                    .strip_prefix("href=\"")
                    .and_then(|v| v.split_once('"'))
                    .map(|(url, _)| unescape(url));
                open.push((name, utf16_len, href));
            }
            continue;
        }
        if c == '&' {
            let end = rest
                .find(';')
                .ok_or_else(|| cant_parse("unterminated character entity"))?;
            let decoded = unescape(&rest[..=end]);
            if decoded == rest[..=end] {
                return Err(cant_parse("unsupported character entity"));
            }
            utf16_len += decoded.encode_utf16().count();
            text.push_str(&decoded);
            rest = &rest[end + 1..];
            continue;
        }
        utf16_len += c.len_utf16();
        text.push(c);
        rest = &rest[c.len_utf8()..];
    }
    if !open.is_empty() {
        return Err(cant_parse("unclosed tag"));
    }
    entities.sort_by_key(|e| e["offset"].as_u64());
    Ok((text, entities))
}

fn cant_parse(why: &str) -> String {
    format!("can't parse entities: {why}")
}

fn entity_type(tag: &str) -> Result<&'static str, String> {
    Ok(match tag {
        "b" | "strong" => "bold",
        "i" | "em" => "italic",
        "u" | "ins" => "underline",
        "s" | "strike" | "del" => "strikethrough",
        "code" => "code",
        "pre" => "pre",
        "a" => "text_link",
        "tg-spoiler" => "spoiler",
        "blockquote" => "blockquote",
        _ => return Err(cant_parse(&format!("unsupported start tag \"{tag}\""))),
    })
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_become_entities_with_utf16_offsets() {
        let (text, entities) = parse("Ключ: <code>a&amp;b</code> <b>ok</b>").unwrap();
        assert_eq!(text, "Ключ: a&b ok");
        assert_eq!(entities[0]["type"], "code");
        assert_eq!(entities[0]["offset"], 6);
        assert_eq!(entities[0]["length"], 3);
        assert_eq!(entities[1]["type"], "bold");
    }

    #[test]
    fn links_keep_their_url() {
        let (text, entities) = parse(r#"<a href="https://x.test/p">policy</a>"#).unwrap();
        assert_eq!(text, "policy");
        assert_eq!(entities[0]["url"], "https://x.test/p");
    }

    #[test]
    fn malformed_html_is_refused_like_telegram_does() {
        assert!(parse("<b>open").is_err());
        assert!(parse("a < b").is_err());
        assert!(parse("<script>x</script>").is_err());
        assert!(parse("fish & chips").is_err());
    }
}
