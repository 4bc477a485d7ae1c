//! `--format TEMPLATE`: values out of the `--json` result without jq.
//!
//! The syntax is a small subset of docker's Go templates, over dockhand's own
//! JSON field names: literal text with `{{.path}}` placeholders, where a path
//! is `.`-separated object keys or array indexes (`{{.state.pid}}`,
//! `{{.networks.0.ip}}`) and `{{.}}` is the whole value. A result that is a
//! list is formatted item by item, one line each; within a line a string
//! prints raw, a number or boolean as JSON, null as nothing, a list as its
//! items joined by spaces and an object as compact JSON. A path that names no
//! field is an error that names it (exit 2). README "Values without jq".

use serde_json::Value;

/// A parsed `--format` template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    /// The path's segments; empty for `{{.}}`.
    Field(Vec<String>),
}

impl Template {
    /// Parse `--format`'s value; the message names what is wrong.
    pub fn parse(s: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = s;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("unclosed '{{{{' in {s:?}"))?;
            parts.push(Part::Field(parse_path(after[..close].trim())?));
            rest = &after[close + 2..];
        }
        if rest.contains("}}") {
            return Err(format!("'}}}}' without '{{{{' in {s:?}"));
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        if !parts.iter().any(|p| matches!(p, Part::Field(_))) {
            return Err(format!(
                "{s:?} has no field: write a path such as '{{{{.name}}}}' or '{{{{.state.pid}}}}'"
            ));
        }
        Ok(Template { parts })
    }

    /// The text for `value`: one line per item when it is a list, else one
    /// line; an error names the first path that is not in the value.
    pub fn render(&self, value: &Value) -> Result<String, String> {
        let items = match value {
            Value::Array(items) => items.as_slice(),
            one => std::slice::from_ref(one),
        };
        let mut out = String::new();
        for item in items {
            for part in &self.parts {
                match part {
                    Part::Text(t) => out.push_str(t),
                    Part::Field(path) => push_scalar(&mut out, lookup(item, path)?),
                }
            }
            out.push('\n');
        }
        Ok(out)
    }
}

fn parse_path(inner: &str) -> Result<Vec<String>, String> {
    let Some(path) = inner.strip_prefix('.') else {
        return Err(format!(
            "'{{{{{inner}}}}}': a field path starts with '.', as in '{{{{.state.pid}}}}'"
        ));
    };
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let segments: Vec<String> = path.split('.').map(str::to_string).collect();
    if let Some(bad) = segments
        .iter()
        .find(|s| s.is_empty() || s.chars().any(char::is_whitespace))
    {
        return Err(format!("'{{{{{inner}}}}}': bad field name {bad:?}"));
    }
    Ok(segments)
}

fn lookup<'v>(value: &'v Value, path: &[String]) -> Result<&'v Value, String> {
    let mut here = value;
    for (i, key) in path.iter().enumerate() {
        let next = match here {
            Value::Object(map) => map.get(key),
            Value::Array(items) => key.parse::<usize>().ok().and_then(|n| items.get(n)),
            _ => None,
        };
        here = next.ok_or_else(|| missing(here, &path[..=i]))?;
    }
    Ok(here)
}

/// "no field 'state.pidd' (state has: pid, running, status)".
fn missing(parent: &Value, path: &[String]) -> String {
    let dotted = path.join(".");
    let within = match path.len() {
        1 => "the result".to_string(),
        n => path[..n - 1].join("."),
    };
    let has = match parent {
        Value::Object(map) => {
            let keys: Vec<&str> = map.keys().map(String::as_str).collect();
            format!("{within} has: {}", keys.join(", "))
        }
        Value::Array(items) => format!("{within} is a list of {}", items.len()),
        Value::Null => format!("{within} is null"),
        _ => format!("{within} is a single value"),
    };
    format!("--format: no field '{dotted}' ({has})")
}

fn push_scalar(out: &mut String, value: &Value) {
    match value {
        Value::Null => {}
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                push_scalar(out, item);
            }
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(t: &str, v: Value) -> Result<String, String> {
        Template::parse(t).unwrap().render(&v)
    }

    #[test]
    fn paths_reach_into_objects_and_lists() {
        let v = json!({"name": "web", "state": {"pid": 42, "running": true},
                       "ips": ["10.0.0.2", "fd00::2"], "nets": [{"ip": "10.0.0.2"}],
                       "exit": null, "labels": {"a": "b"}});
        assert_eq!(render("{{.state.pid}}", v.clone()).unwrap(), "42\n");
        assert_eq!(
            render("{{.name}} {{ .state.running }}", v.clone()).unwrap(),
            "web true\n"
        );
        assert_eq!(render("{{.ips}}", v.clone()).unwrap(), "10.0.0.2 fd00::2\n");
        assert_eq!(render("{{.nets.0.ip}}", v.clone()).unwrap(), "10.0.0.2\n");
        assert_eq!(render("[{{.exit}}]", v.clone()).unwrap(), "[]\n");
        assert_eq!(render("{{.labels}}", v).unwrap(), "{\"a\":\"b\"}\n");
    }

    #[test]
    fn a_list_result_gives_one_line_per_item() {
        let v = json!([{"name": "a", "status": "running"}, {"name": "b", "status": null}]);
        assert_eq!(
            render("{{.name}}={{.status}}", v).unwrap(),
            "a=running\nb=\n"
        );
        assert_eq!(render("{{.}}", json!("x")).unwrap(), "x\n");
    }

    #[test]
    fn a_missing_field_is_named_with_what_is_there() {
        let v = json!({"state": {"pid": 1, "status": "running"}});
        let e = render("{{.state.pidd}}", v.clone()).unwrap_err();
        assert_eq!(
            e,
            "--format: no field 'state.pidd' (state has: pid, status)"
        );
        let e = render("{{.nope}}", v.clone()).unwrap_err();
        assert!(e.contains("no field 'nope' (the result has: state)"), "{e}");
        let e = render("{{.state.pid.x}}", v).unwrap_err();
        assert!(
            e.contains("'state.pid.x' (state.pid is a single value)"),
            "{e}"
        );
    }

    #[test]
    fn bad_templates_are_refused_at_parse_time() {
        for (t, says) in [
            ("{{.name", "unclosed"),
            ("name}}", "without"),
            ("plain", "has no field"),
            ("{{name}}", "starts with '.'"),
            ("{{.a..b}}", "bad field name"),
        ] {
            let e = Template::parse(t).unwrap_err();
            assert!(e.contains(says), "{t}: {e}");
        }
    }
}
