//! YAML text → dockhand's spanned tree: the only place that knows YAML.
//!
//! `saphyr-parser` gives events with a span each; this module builds a
//! [`Node`] tree from them in which every node and every mapping key keeps
//! the line it was **written** on — also a key that arrived through an alias
//! or a merge key `<<`, which then points into the anchored block. On top of
//! the plain YAML 1.2 tree it does what compose files need:
//!
//! * anchors and aliases (an alias is a copy of the anchored node);
//! * merge keys (`<<: *a`, `<<: [*a, *b]`, YAML 1.1's merge type): keys
//!   written in the mapping win over merged ones, and in a list the earlier
//!   mapping wins; merging is shallow;
//! * a duplicate key in one mapping is an error naming both lines (PyYAML,
//!   and so both reference tools, silently keep the last one);
//! * scalars keep their **original text** and whether they were plain, and
//!   are typed later by the field that reads them: `0755` stays `0755` in an
//!   environment value, `restart: no` is the string `no` (YAML 1.2), `true`
//!   is a boolean only where a boolean is expected;
//! * compose's merge tags `!reset` and `!override` are kept on the node;
//!   `!!str` makes a scalar a string; any other tag is an error.

use std::collections::HashMap;
use std::sync::Arc;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use crate::error::{Error, Result};

/// Where something was written: file and line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Loc {
    /// The file as the user named it.
    pub file: Arc<str>,
    /// 1-based line.
    pub line: usize,
}

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

impl Loc {
    /// An InvalidInput error at this place about `key` of `service` (or of
    /// the file when `service` is `None`): `FILE:LINE: service "web", key
    /// "ports": MESSAGE`.
    ///
    /// ```
    /// use dockhand::app::yaml::Loc;
    /// let at = Loc { file: "c.yaml".into(), line: 6 };
    /// assert_eq!(at.error(Some("web"), "restrat", "unknown key").message(), r#"c.yaml:6: service "web", key "restrat": unknown key"#);
    /// ```
    pub fn error(
        &self,
        service: Option<&str>,
        key: &str,
        message: impl std::fmt::Display,
    ) -> Error {
        let subject = match (service, key) {
            (Some(s), "") => format!("service {s:?}"),
            (Some(s), k) => format!("service {s:?}, key {k:?}"),
            (None, k) => format!("key {k:?}"),
        };
        Error::invalid_input(format!("{self}: {subject}: {message}"))
    }

    /// [`Loc::error`] about the key at `path` (`services`, `web`, `image`):
    /// a service's key when the path is under `services`.
    pub fn error_at_path(&self, path: &[String], message: impl std::fmt::Display) -> Error {
        match path {
            [top, service, rest @ ..] if top == "services" => {
                self.error(Some(service), &rest.join("."), message)
            }
            _ => self.error(None, &path.join("."), message),
        }
    }
}

/// A node of the tree and the line (1-based) it was written on.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Line of the node's first character.
    pub line: usize,
    /// A compose merge tag on the node.
    pub tag: Option<Tag>,
}

/// Compose's merge tags (spec, "Merge and override").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// `!reset`: the value is dropped, also what earlier files set.
    Reset,
    /// `!override`: replaces what earlier files set instead of merging.
    Override,
}

/// What a node holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text as written; typed by the field that reads it.
    Scalar(Scalar),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in the order written (merged keys after the written ones).
    Map(Vec<Entry>),
}

/// A scalar's text and style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    /// The text (escapes and folding resolved by the YAML parser).
    pub text: String,
    /// Written without quotes or block indicators: only a plain scalar can
    /// be null, a boolean or a number.
    pub plain: bool,
}

/// One `key: value` of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key's text.
    pub key: String,
    /// The line the key is written on.
    pub line: usize,
    /// The value.
    pub value: Node,
}

impl Node {
    /// The mapping's entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The sequence's items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The scalar, if this is one (null included).
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// YAML 1.2 null: a plain `null`, `~` or nothing at all.
    pub fn is_null(&self) -> bool {
        self.as_scalar().is_some_and(|s| {
            s.plain && matches!(s.text.as_str(), "" | "~" | "null" | "Null" | "NULL")
        })
    }

    /// A YAML 1.2 boolean: plain `true`/`false` (any of the three casings).
    pub fn as_bool(&self) -> Option<bool> {
        let s = self.as_scalar().filter(|s| s.plain)?;
        match s.text.as_str() {
            "true" | "True" | "TRUE" => Some(true),
            "false" | "False" | "FALSE" => Some(false),
            _ => None,
        }
    }

    /// What kind of node this is, for error messages.
    pub fn kind(&self) -> &'static str {
        match &self.value {
            _ if self.is_null() => "null",
            Value::Scalar(_) if self.as_bool().is_some() => "a boolean",
            Value::Scalar(_) => "a string",
            Value::Seq(_) => "a sequence",
            Value::Map(_) => "a mapping",
        }
    }

    /// The value of `key` in this mapping.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.as_map()?.iter().find(|e| e.key == key)
    }

    /// Every scalar's text passed through `f` (keys excepted): interpolation.
    pub fn map_scalars(
        &mut self,
        f: &mut dyn FnMut(&mut String, usize) -> Result<()>,
    ) -> Result<()> {
        match &mut self.value {
            Value::Scalar(s) => f(&mut s.text, self.line),
            Value::Seq(items) => items.iter_mut().try_for_each(|n| n.map_scalars(f)),
            Value::Map(entries) => entries.iter_mut().try_for_each(|e| e.value.map_scalars(f)),
        }
    }
}

/// An error at `line` of `file`.
pub fn error_at(file: &str, line: usize, message: impl std::fmt::Display) -> Error {
    Error::invalid_input(format!("{file}:{line}: {message}"))
}

/// Parse one YAML document. `file` names it in errors (`compose.yaml:7: …`).
///
/// ```
/// use dockhand::app::yaml::{parse, Value};
/// let doc = parse("x: &d {a: 1}\ny:\n  <<: *d\n  b: 2\n", "f.yaml").unwrap();
/// let y = &doc.get("y").unwrap().value;
/// let keys: Vec<_> = y.as_map().unwrap().iter().map(|e| (e.key.as_str(), e.line)).collect();
/// assert_eq!(keys, [("b", 4), ("a", 1)]);
/// assert_eq!(parse("a: 1\na: 2\n", "f.yaml").unwrap_err().message(), r#"f.yaml:2: key "a": duplicate key (first at line 1)"#);
/// ```
pub fn parse(text: &str, file: &str) -> Result<Node> {
    let mut builder = Builder {
        file,
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        documents: 0,
    };
    let mut parser = Parser::new_from_str(text);
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| {
            error_at(
                file,
                e.marker().line(),
                format!("invalid YAML: {}", e.info()),
            )
        })?;
        builder.event(event, span)?;
    }
    builder
        .root
        .ok_or_else(|| error_at(file, 1, "the file is empty"))
}

/// A collection being built.
enum Frame {
    Seq {
        node: Partial,
        items: Vec<Node>,
    },
    Map {
        node: Partial,
        entries: Vec<Entry>,
        /// The key read, waiting for its value.
        key: Option<(String, usize, bool)>,
        /// Values of `<<` keys, in order.
        merges: Vec<Node>,
    },
}

/// What is known of a collection from its start event.
struct Partial {
    line: usize,
    anchor: usize,
    tag: Option<Tag>,
}

struct Builder<'f> {
    file: &'f str,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    documents: usize,
}

impl Builder<'_> {
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<()> {
        let line = span.start.line();
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => Ok(()),
            Event::DocumentStart(_) => {
                self.documents += 1;
                match self.documents {
                    1 => Ok(()),
                    _ => Err(error_at(
                        self.file,
                        line,
                        "a compose file holds one YAML document, not several",
                    )),
                }
            }
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().ok_or_else(|| {
                    error_at(
                        self.file,
                        line,
                        "an alias names an anchor that is not defined before it",
                    )
                })?;
                self.complete(node, 0)
            }
            Event::Scalar(text, style, anchor, tag) => {
                let (tag, force_string) = self.tag(tag.as_deref(), line)?;
                let node = Node {
                    value: Value::Scalar(Scalar {
                        text: text.into_owned(),
                        plain: style == ScalarStyle::Plain && !force_string,
                    }),
                    line,
                    tag,
                };
                self.complete(node, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                let (tag, _) = self.tag(tag.as_deref(), line)?;
                self.stack.push(Frame::Seq {
                    node: Partial { line, anchor, tag },
                    items: Vec::new(),
                });
                Ok(())
            }
            Event::MappingStart(anchor, tag) => {
                let (tag, _) = self.tag(tag.as_deref(), line)?;
                self.stack.push(Frame::Map {
                    node: Partial { line, anchor, tag },
                    entries: Vec::new(),
                    key: None,
                    merges: Vec::new(),
                });
                Ok(())
            }
            Event::SequenceEnd => match self.stack.pop() {
                Some(Frame::Seq { node, items }) => self.complete(
                    Node {
                        value: Value::Seq(items),
                        line: node.line,
                        tag: node.tag,
                    },
                    node.anchor,
                ),
                _ => Err(error_at(self.file, line, "unbalanced YAML sequence")),
            },
            Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Map {
                    node,
                    entries,
                    merges,
                    ..
                }) => {
                    let entries = merge_keys(self.file, entries, merges)?;
                    self.complete(
                        Node {
                            value: Value::Map(entries),
                            line: node.line,
                            tag: node.tag,
                        },
                        node.anchor,
                    )
                }
                _ => Err(error_at(self.file, line, "unbalanced YAML mapping")),
            },
        }
    }

    /// A tag as dockhand reads it, and whether it forces a string.
    fn tag(&self, tag: Option<&saphyr_parser::Tag>, line: usize) -> Result<(Option<Tag>, bool)> {
        let Some(tag) = tag else {
            return Ok((None, false));
        };
        if tag.is_yaml_core_schema() {
            return Ok((None, tag.suffix == "str"));
        }
        match (tag.handle.as_str(), tag.suffix.as_str()) {
            ("!", "reset") => Ok((Some(Tag::Reset), false)),
            ("!", "override") => Ok((Some(Tag::Override), false)),
            _ => Err(error_at(
                self.file,
                line,
                format!(
                    "unknown tag {}{}: compose knows only !reset and !override",
                    tag.handle, tag.suffix
                ),
            )),
        }
    }

    /// The keys leading to the collection being built (`services`, `web`).
    fn key_path(&self) -> Vec<String> {
        self.stack
            .iter()
            .filter_map(|f| match f {
                Frame::Map {
                    key: Some((k, _, _)),
                    ..
                } => Some(k.clone()),
                _ => None,
            })
            .collect()
    }

    /// A finished node: remember its anchor, hand it to its parent.
    fn complete(&mut self, node: Node, anchor: usize) -> Result<()> {
        if let Some(Frame::Map {
            entries,
            key: Some((k, line, plain)),
            ..
        }) = self.stack.last()
        {
            let first = entries.iter().find(|e| e.key == *k).map(|e| e.line);
            if let (Some(first), false) = (first, k == "<<" && *plain) {
                let (k, line) = (k.clone(), *line);
                let mut path = self.key_path();
                path.pop();
                path.push(k);
                let at = Loc {
                    file: self.file.into(),
                    line,
                };
                return Err(
                    at.error_at_path(&path, format!("duplicate key (first at line {first})"))
                );
            }
        }
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Frame::Map {
                entries,
                key,
                merges,
                ..
            }) => match key.take() {
                None => {
                    let Value::Scalar(s) = node.value else {
                        return Err(error_at(
                            self.file,
                            node.line,
                            "a mapping key must be a plain value, not a collection",
                        ));
                    };
                    *key = Some((s.text, node.line, s.plain));
                    Ok(())
                }
                Some((k, _, true)) if k == "<<" => {
                    merges.push(node);
                    Ok(())
                }
                Some((k, line, _)) => {
                    entries.push(Entry {
                        key: k,
                        line,
                        value: node,
                    });
                    Ok(())
                }
            },
        }
    }
}

/// The entries of a mapping after its merge keys: written keys first, then
/// each merged key not written, the earlier source winning.
fn merge_keys(file: &str, mut entries: Vec<Entry>, merges: Vec<Node>) -> Result<Vec<Entry>> {
    for source in merges {
        let maps: Vec<Node> = match source.value {
            Value::Map(_) => vec![source],
            Value::Seq(items) => items,
            _ => {
                return Err(error_at(
                    file,
                    source.line,
                    "a merge key `<<` takes a mapping or a list of mappings",
                ))
            }
        };
        for map in maps {
            let Value::Map(merged) = map.value else {
                return Err(error_at(
                    file,
                    map.line,
                    "a merge key `<<` takes a mapping or a list of mappings",
                ));
            };
            for entry in merged {
                if !entries.iter().any(|e| e.key == entry.key) {
                    entries.push(entry);
                }
            }
        }
    }
    Ok(entries)
}

/// `value` as block-style YAML (what `app config` prints): mappings and
/// sequences in block form, strings quoted (JSON style) only where a plain
/// scalar would read back as something else.
///
/// ```
/// let v = serde_json::json!({"services": {"web": {"image": "busybox", "ports": ["80"], "env": {"A": "yes"}}}});
/// assert_eq!(dockhand::app::yaml::emit(&v), "services:\n  web:\n    env:\n      A: \"yes\"\n    image: busybox\n    ports:\n    - \"80\"\n");
/// ```
pub fn emit(value: &serde_json::Value) -> String {
    let mut out = String::new();
    emit_into(&mut out, value, 0);
    out
}

fn emit_into(out: &mut String, value: &serde_json::Value, indent: usize) {
    use serde_json::Value as J;
    let pad = " ".repeat(indent);
    match value {
        J::Object(map) => {
            for (k, v) in map {
                out.push_str(&format!("{pad}{}:", scalar_text(k)));
                block_child(out, v, indent + 2, indent);
            }
        }
        J::Array(items) => {
            for v in items {
                out.push_str(&format!("{pad}-"));
                match v {
                    J::Object(m) if !m.is_empty() => {
                        // The first key on the dash's line, the rest below it.
                        let mut first = true;
                        for (k, inner) in m {
                            let lead = if first {
                                " ".to_string()
                            } else {
                                " ".repeat(indent + 2)
                            };
                            first = false;
                            out.push_str(&format!("{lead}{}:", scalar_text(k)));
                            block_child(out, inner, indent + 4, indent + 2);
                        }
                    }
                    _ => block_child(out, v, indent + 2, indent),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", flat(other))),
    }
}

/// After `key:` or `-`: a scalar on the same line, a collection below.
fn block_child(out: &mut String, v: &serde_json::Value, indent: usize, seq_indent: usize) {
    use serde_json::Value as J;
    match v {
        J::Object(m) if !m.is_empty() => {
            out.push('\n');
            emit_into(out, v, indent);
        }
        J::Array(a) if !a.is_empty() => {
            out.push('\n');
            // Sequences under a key sit at the key's indentation (compose's style).
            emit_into(out, v, seq_indent);
        }
        other => out.push_str(&format!(" {}\n", flat(other))),
    }
}

fn flat(v: &serde_json::Value) -> String {
    use serde_json::Value as J;
    match v {
        J::Null => "null".into(),
        J::Bool(b) => b.to_string(),
        J::Number(n) => n.to_string(),
        J::String(s) => scalar_text(s),
        J::Array(_) => "[]".into(),
        J::Object(_) => "{}".into(),
    }
}

/// A string as a YAML scalar: plain when it reads back as the same string,
/// else double-quoted.
fn scalar_text(s: &str) -> String {
    let special = s.is_empty()
        || s.starts_with([
            ' ', '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"',
            '%', '@', '`', '~',
        ])
        || s.ends_with(' ')
        || s.contains(": ")
        || s.contains(" #")
        || s.contains(['\n', '\t', '\r'])
        || s.chars().any(char::is_control)
        || matches!(
            s.to_ascii_lowercase().as_str(),
            "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
        )
        || s.parse::<f64>().is_ok()
        || s.starts_with("0x")
        || s.starts_with("0o");
    match special {
        true => serde_json::Value::String(s.to_string()).to_string(),
        false => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(node: &Node) -> Vec<(String, usize)> {
        node.as_map()
            .unwrap()
            .iter()
            .map(|e| (e.key.clone(), e.line))
            .collect()
    }

    fn text<'a>(node: &'a Node, key: &str) -> &'a str {
        &node.get(key).unwrap().value.as_scalar().unwrap().text
    }

    #[test]
    fn merge_keys_follow_yaml_precedence_and_keep_the_lines_written() {
        let doc = parse(
            "a: &a {restart: always, x: 1}\nb: &b {restart: 'no', y: 2}\nc:\n  <<: [*a, *b]\n  x: 3\n",
            "t.yaml",
        )
        .unwrap();
        let c = &doc.get("c").unwrap().value;
        assert_eq!(text(c, "restart"), "always", "the earlier map wins");
        assert_eq!(text(c, "x"), "3", "a written key wins");
        assert_eq!(text(c, "y"), "2");
        assert_eq!(
            keys(c),
            [("x".into(), 5), ("restart".into(), 1), ("y".into(), 2)]
        );
    }

    #[test]
    fn scalars_keep_their_text_and_style() {
        let doc = parse(
            "a: 0755\nb: '0755'\nc: no\nd: ~\ne:\nf: !!str true\ng: true\n",
            "t",
        )
        .unwrap();
        let a = &doc.get("a").unwrap().value;
        assert_eq!(
            (
                a.as_scalar().unwrap().text.as_str(),
                a.as_scalar().unwrap().plain
            ),
            ("0755", true)
        );
        assert!(!doc.get("b").unwrap().value.as_scalar().unwrap().plain);
        assert_eq!(
            doc.get("c").unwrap().value.as_bool(),
            None,
            "YAML 1.2: no is a string"
        );
        assert!(doc.get("d").unwrap().value.is_null() && doc.get("e").unwrap().value.is_null());
        assert_eq!(doc.get("f").unwrap().value.as_bool(), None);
        assert_eq!(doc.get("g").unwrap().value.as_bool(), Some(true));
    }

    #[test]
    fn refusals_name_the_line() {
        let cases = [
            ("a: [1, 2\nb: 3\n", "t:2: invalid YAML"),
            ("a: !custom x\n", "t:1: unknown tag !custom"),
            (
                "a: 1\n---\nb: 2\n",
                "t:2: a compose file holds one YAML document",
            ),
            ("a:\n  <<: 5\n", "t:2: a merge key"),
            ("", "t:1: the file is empty"),
            ("? [a]\n: 1\n", "t:1: a mapping key must be a plain value"),
        ];
        for (yaml, want) in cases {
            let e = parse(yaml, "t").unwrap_err();
            assert!(e.message().starts_with(want), "{yaml:?}: {e}");
        }
    }

    #[test]
    fn emitted_yaml_reads_back_as_the_same_document() {
        let v = serde_json::json!({"a": {"list": [{"x": 1, "y": "two"}, "s: t", "", "0755", true, null], "empty": {}, "q": "a #b", "ok": "plain text"}});
        let text = emit(&v);
        let back = parse(&text, "t").unwrap();
        let a = &back.get("a").unwrap().value;
        let list = a.get("list").unwrap().value.as_seq().unwrap();
        assert_eq!(list.len(), 6);
        assert_eq!(
            list[0].get("y").unwrap().value.as_scalar().unwrap().text,
            "two"
        );
        assert_eq!(list[1].as_scalar().unwrap().text, "s: t");
        assert!(!list[3].as_scalar().unwrap().plain, "0755 stays a string");
        assert_eq!(a.get("q").unwrap().value.as_scalar().unwrap().text, "a #b");
        assert_eq!(
            a.get("ok").unwrap().value.as_scalar().unwrap().text,
            "plain text"
        );
    }

    #[test]
    fn tags_reset_and_override_are_kept() {
        let doc = parse("ports: !reset []\nenv: !override {A: 1}\n", "t").unwrap();
        assert_eq!(doc.get("ports").unwrap().value.tag, Some(Tag::Reset));
        assert_eq!(doc.get("env").unwrap().value.tag, Some(Tag::Override));
    }
}
