//! Variable interpolation in compose files, and the `.env` file.
//!
//! The rules are the compose spec's (`12-interpolation.md`), which
//! podman-compose 1.6.0 follows and docker-compose 1.29.2 only partly
//! (vendor-docs/compose.md, "Interpolation"):
//!
//! | form | yields |
//! |---|---|
//! | `$VAR`, `${VAR}` | the value; unset: empty (and a warning) |
//! | `${VAR:-d}` / `${VAR-d}` | `d` when unset or empty / only when unset |
//! | `${VAR:?e}` / `${VAR?e}` | an error with `e` when unset or empty / when unset |
//! | `${VAR:+r}` / `${VAR+r}` | `r` when set and not empty / when set, else empty |
//! | `$$` | a literal `$` (`$$HOME` reaches the container as `$HOME`) |
//! | `$` before anything else | a literal `$` (`cost: $ 5`) |
//!
//! Defaults, errors and replacements are interpolated themselves, so they
//! nest (`${A:-${B:-x}}`). Names are `[_a-zA-Z][_a-zA-Z0-9]*`. Values are
//! interpolated, keys never; it runs per file, before merging, after anchors
//! are resolved.

use std::collections::BTreeMap;

/// Where variables come from: the process environment, then the `.env`.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    /// The process environment (wins).
    pub environment: BTreeMap<String, String>,
    /// The `.env` file's variables.
    pub dotenv: BTreeMap<String, String>,
}

impl Vars {
    /// The value of `name`: the environment's, else the `.env` file's.
    ///
    /// ```
    /// use dockhand::app::interpolate::Vars;
    /// let mut vars = Vars::default();
    /// vars.dotenv.insert("A".into(), "from .env".into());
    /// vars.environment.insert("A".into(), "from the shell".into());
    /// assert_eq!(vars.get("A"), Some("from the shell"));
    /// ```
    pub fn get(&self, name: &str) -> Option<&str> {
        self.environment
            .get(name)
            .or_else(|| self.dotenv.get(name))
            .map(String::as_str)
    }
}

/// Why interpolation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// `${VAR:?message}` (or `?`) with the variable unset (or empty).
    Required {
        /// The variable.
        name: String,
        /// The file's message.
        message: String,
    },
    /// Not an interpolation the spec knows (`${`, `${1}`, `${A/b/c}` …).
    Syntax(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Required { name, message } if message.is_empty() => {
                write!(f, "required variable {name} is not set")
            }
            Failure::Required { name, message } => {
                write!(f, "required variable {name} is not set: {message}")
            }
            Failure::Syntax(text) => write!(f, "invalid interpolation {text:?}"),
        }
    }
}

/// Interpolate `text` with `lookup`; `unset` is told each variable used
/// without a value and without a default.
///
/// ```
/// use dockhand::app::interpolate::interpolate;
/// let lookup = |n: &str| (n == "SET").then(|| "v".to_string());
/// let out = interpolate("${SET}-${UNSET:-${SET}}-$$SET-$ 5", &lookup, &mut |_| {}).unwrap();
/// assert_eq!(out, "v-v-$SET-$ 5");
/// assert!(interpolate("${UNSET:?give it}", &lookup, &mut |_| {}).unwrap_err().to_string().contains("give it"));
/// ```
pub fn interpolate(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut dyn FnMut(&str),
) -> Result<String, Failure> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('{') {
            let end = closing_brace(inner).ok_or_else(|| Failure::Syntax(format!("${{{inner}")))?;
            out.push_str(&braced(&inner[..end], lookup, unset)?);
            rest = &inner[end + 1..];
        } else {
            let len = name_len(after);
            if len == 0 {
                out.push('$');
                rest = after;
            } else {
                let name = &after[..len];
                match lookup(name) {
                    Some(v) => out.push_str(&v),
                    None => unset(name),
                }
                rest = &after[len..];
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Length of the variable name at the start of `text` (0: none).
fn name_len(text: &str) -> usize {
    let mut chars = text.char_indices();
    match chars.next() {
        Some((_, c)) if c == '_' || c.is_ascii_alphabetic() => {}
        _ => return 0,
    }
    chars
        .find(|(_, c)| !(*c == '_' || c.is_ascii_alphanumeric()))
        .map_or(text.len(), |(i, _)| i)
}

/// Index of the `}` closing a `${`, counting nested `${…}`.
fn closing_brace(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// The inside of `${…}`.
fn braced(
    inner: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut dyn FnMut(&str),
) -> Result<String, Failure> {
    let len = name_len(inner);
    let (name, op) = inner.split_at(len);
    if name.is_empty() {
        return Err(Failure::Syntax(format!("${{{inner}}}")));
    }
    let value = lookup(name);
    let nonempty = value.as_deref().is_some_and(|v| !v.is_empty());
    let mut nested = |text: &str| interpolate(text, lookup, unset);
    let (operator, arg) = [":-", ":?", ":+", "-", "?", "+"]
        .iter()
        .find_map(|o| op.strip_prefix(o).map(|a| (*o, a)))
        .unwrap_or((op, ""));
    match operator {
        "" => Ok(value.unwrap_or_else(|| {
            unset(name);
            String::new()
        })),
        ":-" if !nonempty => nested(arg),
        "-" if value.is_none() => nested(arg),
        ":-" | "-" => Ok(value.unwrap_or_default()),
        ":?" if !nonempty => Err(Failure::Required {
            name: name.into(),
            message: nested(arg)?,
        }),
        "?" if value.is_none() => Err(Failure::Required {
            name: name.into(),
            message: nested(arg)?,
        }),
        ":?" | "?" => Ok(value.unwrap_or_default()),
        ":+" if nonempty => nested(arg),
        "+" if value.is_some() => nested(arg),
        ":+" | "+" => Ok(String::new()),
        _ => Err(Failure::Syntax(format!("${{{inner}}}"))),
    }
}

/// Parse a `.env` file (compose's syntax): `KEY=VALUE` lines (also
/// `export KEY=VALUE` and `KEY: VALUE`), `#` comments, blank lines; spaces
/// around the value trimmed; unquoted values end at ` #`; double quotes
/// take `\n \r \t \\ \"` escapes; single quotes are literal (`\'` escapes a
/// quote); quoted values may span lines. Unquoted and double-quoted values
/// are interpolated with `outer` (the environment) and the lines before.
/// An error names the 1-based line.
///
/// ```
/// use dockhand::app::interpolate::parse_dotenv;
/// let env = parse_dotenv("A=1\nexport B = 'lit $A'\nC=\"${A}-x\" # c\nD=v # c\n", &|_| None).unwrap();
/// assert_eq!(env["B"], "lit $A");
/// assert_eq!(env["C"], "1-x");
/// assert_eq!(env["D"], "v");
/// ```
pub fn parse_dotenv(
    text: &str,
    outer: &dyn Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>, (usize, String)> {
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut n = 0;
    while n < lines.len() {
        let first = n + 1;
        let line = lines[n].trim_start();
        n += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let split = line
            .find(['=', ':'])
            .ok_or((first, format!("{line:?} is not KEY=VALUE")))?;
        let key = line[..split].trim();
        if name_len(key) != key.len() {
            return Err((first, format!("invalid variable name {key:?}")));
        }
        let raw = line[split + 1..].trim_start();
        let lookup = |name: &str| outer(name).or_else(|| vars.get(name).cloned());
        let value = match raw.chars().next() {
            Some(q @ ('"' | '\'')) => {
                // A quoted value may go on over the next lines.
                let mut body = raw[1..].to_string();
                let close = loop {
                    if let Some(end) = closing_quote(&body, q) {
                        break end;
                    }
                    let next = lines
                        .get(n)
                        .ok_or((first, format!("the {q} quote of {key} is never closed")))?;
                    body.push('\n');
                    body.push_str(next);
                    n += 1;
                };
                let inside = &body[..close];
                if q == '\'' {
                    inside.replace("\\'", "'")
                } else {
                    let unescaped = unescape_double(inside);
                    interpolate(&unescaped, &lookup, &mut |_| {})
                        .map_err(|e| (first, e.to_string()))?
                }
            }
            _ => {
                let cut = raw.find(" #").unwrap_or(raw.len());
                interpolate(raw[..cut].trim_end(), &lookup, &mut |_| {})
                    .map_err(|e| (first, e.to_string()))?
            }
        };
        vars.insert(key.to_string(), value);
    }
    Ok(vars)
}

/// Index of the unescaped closing quote `q` in `body`.
fn closing_quote(body: &str, q: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            c if c == q && !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

fn unescape_double(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some(other @ ('\\' | '"')) => out.push(other),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Result<String, Failure> {
        let lookup = |n: &str| match n {
            "SET" => Some("value".to_string()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        interpolate(text, &lookup, &mut |_| {})
    }

    #[test]
    fn every_form_of_the_spec() {
        for (text, want) in [
            ("${SET}", "value"),
            ("$SET", "value"),
            ("$SET.suffix", "value.suffix"),
            ("${UNSET:-dflt}", "dflt"),
            ("${EMPTY:-dflt}", "dflt"),
            ("${EMPTY-dflt}", ""),
            ("${UNSET-dflt}", "dflt"),
            ("${SET:?must}", "value"),
            ("$$SET", "$SET"),
            ("${UNSET:-${SET}}", "value"),
            ("${UNSET:-${UNSET2:-deep}}", "deep"),
            ("${UNSET}", ""),
            ("${SET:+alt}", "alt"),
            ("${EMPTY:+alt}", ""),
            ("${EMPTY+alt}", "alt"),
            ("cost: $ 5, $1", "cost: $ 5, $1"),
            ("a$", "a$"),
            ("${UNSET:-a}b${SET}", "abvalue"),
        ] {
            assert_eq!(run(text).unwrap(), want, "{text}");
        }
    }

    #[test]
    fn errors() {
        assert_eq!(
            run("${UNSET:?API token must be set}").unwrap_err(),
            Failure::Required {
                name: "UNSET".into(),
                message: "API token must be set".into()
            }
        );
        assert!(run("${EMPTY?x}").is_ok());
        assert!(run("${EMPTY:?x}").is_err());
        for bad in ["${", "${1}", "${A/b/c}", "${}", "${SET"] {
            assert!(matches!(run(bad), Err(Failure::Syntax(_))), "{bad}");
        }
    }

    #[test]
    fn unset_variables_are_reported() {
        let mut seen = Vec::new();
        interpolate("$A ${B} ${C:-x}", &|_| None, &mut |n| {
            seen.push(n.to_string())
        })
        .unwrap();
        assert_eq!(seen, ["A", "B"]);
    }

    #[test]
    fn dotenv_forms_of_the_interp_edge_fixture() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/apps/interp-edge/.env"
        ))
        .unwrap();
        let env = parse_dotenv(&text, &|_| None).unwrap();
        assert_eq!(env["SET"], "value");
        assert_eq!(env["EMPTY"], "");
        assert_eq!(env["EXPORTED"], "exp");
        assert_eq!(env["DOUBLE"], "a b # not a comment");
        assert_eq!(env["SINGLE"], "lit $SET");
        assert_eq!(env["INLINE"], "val");
        assert_eq!(env["SPACED"], "spaced value");
        assert_eq!(env["REFERS"], "value-ref");
        let multi = parse_dotenv("K='a\nb'\nL=\"x\\ty\"\n", &|_| None).unwrap();
        assert_eq!((multi["K"].as_str(), multi["L"].as_str()), ("a\nb", "x\ty"));
        assert_eq!(
            parse_dotenv("A=1\nnot a line\n", &|_| None).unwrap_err().0,
            2
        );
    }
}
