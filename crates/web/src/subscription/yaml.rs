//! A small YAML writer for JSON-shaped values: block mappings and sequences, every string in
//! double quotes with JSON escapes (valid YAML), so no value can change the document's shape.

use serde_json::Value;

pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, 0);
    out
}

fn scalar(value: &Value) -> String {
    match value {
        // JSON's own quoting is a subset of YAML's double-quoted style.
        Value::String(s) => Value::String(s.clone()).to_string(),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

fn indent(out: &mut String, level: usize) {
    out.extend(std::iter::repeat_n("  ", level));
}

fn write_value(out: &mut String, value: &Value, level: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, v) in map {
                indent(out, level);
                out.push_str(&scalar(&Value::String(key.clone())));
                out.push(':');
                write_child(out, v, level);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                indent(out, level);
                out.push('-');
                match item {
                    Value::Object(map) if !map.is_empty() => {
                        // The first key shares the dash's line; the rest line up under it.
                        let mut first = true;
                        for (key, v) in map {
                            if first {
                                out.push(' ');
                                first = false;
                            } else {
                                indent(out, level + 1);
                            }
                            out.push_str(&scalar(&Value::String(key.clone())));
                            out.push(':');
                            write_child(out, v, level + 1);
                        }
                    }
                    _ => write_child(out, item, level),
                }
            }
        }
        Value::Object(_) => out.push_str("{}\n"),
        Value::Array(_) => out.push_str("[]\n"),
        other => {
            indent(out, level);
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

/// After `key:` or `-`: a scalar or empty collection on the same line, anything else below.
fn write_child(out: &mut String, value: &Value, level: usize) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_value(out, value, level + 1);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_value(out, value, level + 1);
        }
        Value::Object(_) => out.push_str(" {}\n"),
        Value::Array(_) => out.push_str(" []\n"),
        other => {
            out.push(' ');
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(v: Value) {
        let text = to_string(&v);
        let back: Value = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(back, v, "\n{text}");
    }

    #[test]
    fn nested_mappings_and_sequences_read_back_as_written() {
        round_trip(json!({
            "a": 1, "b": true, "c": null, "d": 1.5,
            "list": ["x", 2, { "k": "v", "n": { "deep": [1, 2] } }, [3, 4], []],
            "empty": {},
            "map": { "inner": ["only"] },
        }));
    }

    #[test]
    fn strings_that_look_like_yaml_syntax_stay_strings() {
        round_trip(json!({
            "k: v": "- item", "#": "# comment", "yes": "no", "null": "null", "1": "007",
            "quote": "say \"hi\"\n\ttab", "unicode": "Москва ⭐", "colon": "a: b", "amp": "&anchor *alias !tag",
        }));
    }
}
