//! The JSON Schemas in docs/schema/ (issue 17) against real `--json`
//! outputs of both engines: every schema file is checked here, and a field
//! renamed, dropped or retyped in the output fails its schema.
//!
//! The validator is the small subset of JSON Schema (2020-12) the files use:
//! type, enum, properties, required, additionalProperties, items, oneOf,
//! local $ref, minimum, maximum.

use serde_json::Value;

use crate::support::*;

fn schema(name: &str) -> Value {
    let path = format!("{}/docs/schema/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The problems of `value` against `schema` (empty: valid), with JSON paths.
fn violations(root: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r
            .strip_prefix("#/$defs/")
            .unwrap_or_else(|| panic!("unsupported $ref {r}"));
        return violations(root, &root["$defs"][name], value, at, out);
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            other => panic!("bad type {other}"),
        };
        let ok = types.iter().any(|t| match *t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            other => panic!("unknown type {other}"),
        });
        if !ok {
            out.push(format!("{at}: {value} is not {types:?}"));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            out.push(format!("{at}: {value} not in {allowed:?}"));
        }
    }
    if let (Some(min), Some(n)) = (
        schema.get("minimum").and_then(Value::as_i64),
        value.as_i64(),
    ) {
        if n < min {
            out.push(format!("{at}: {n} < {min}"));
        }
    }
    if let (Some(max), Some(n)) = (
        schema.get("maximum").and_then(Value::as_i64),
        value.as_i64(),
    ) {
        if n > max {
            out.push(format!("{at}: {n} > {max}"));
        }
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = options
            .iter()
            .filter(|o| {
                let mut v = Vec::new();
                violations(root, o, value, at, &mut v);
                v.is_empty()
            })
            .count();
        if matching != 1 {
            out.push(format!("{at}: {value} matches {matching} of oneOf, not 1"));
        }
    }
    if let Some(map) = value.as_object() {
        for key in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !map.contains_key(key.as_str().unwrap()) {
                out.push(format!("{at}: required field {key} missing"));
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (key, v) in map {
            let sub = match props.and_then(|p| p.get(key)) {
                Some(s) => s,
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        out.push(format!("{at}: unexpected field {key:?}"));
                        continue;
                    }
                    Some(s @ Value::Object(_)) => s,
                    _ => continue,
                },
            };
            violations(root, sub, v, &format!("{at}.{key}"), out);
        }
    }
    if let (Some(items), Some(list)) = (schema.get("items"), value.as_array()) {
        for (i, v) in list.iter().enumerate() {
            violations(root, items, v, &format!("{at}[{i}]"), out);
        }
    }
}

#[track_caller]
fn assert_valid(name: &str, value: &Value) {
    let schema = schema(name);
    let mut out = Vec::new();
    violations(&schema, &schema, value, "$", &mut out);
    assert!(out.is_empty(), "{name}.json: {out:#?}\n{value:#}");
}

#[test]
fn the_validator_rejects_what_the_schemas_forbid() {
    let mut out = Vec::new();
    let s = schema("status");
    violations(
        &s,
        &s,
        &serde_json::json!([{"name": "a", "id": 1, "status": "running"}]),
        "$",
        &mut out,
    );
    violations(
        &s,
        &s,
        &serde_json::json!([{"name": "a", "status": "sleeping"}]),
        "$",
        &mut out,
    );
    assert_eq!(out.len(), 3, "{out:#?}");
}

/// The schemas this test checks; every file in docs/schema/ must be here.
const CHECKED: [&str; 11] = [
    "action",
    "check",
    "error",
    "exit-code",
    "inspect",
    "ip",
    "pid",
    "ports",
    "ps",
    "status",
    "version",
];

#[test]
fn every_schema_file_is_checked() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/schema");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .filter_map(|f| f.strip_suffix(".json").map(str::to_string))
        .collect();
    files.sort();
    assert_eq!(
        files, CHECKED,
        "add the new schema to CHECKED and to a test below"
    );
}

#[test]
fn real_outputs_of_both_engines_match_their_schemas() {
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let name = start_container(
            engine,
            &mut cleanup,
            "cli-schema",
            &["-p", "127.0.0.1::80"],
            &[],
        );
        let json = |args: &[&str]| {
            let r = dockhand_on(
                engine,
                std::iter::once("--json").chain(args.iter().copied()),
            );
            assert!(r.code == 0 || r.code == 6, "{engine} {args:?}: {r:?}");
            r.json()
        };
        assert_valid("version", &json(&["version"]));
        assert_valid("check", &json(&["check"]));
        assert_valid("status", &json(&["status", &name, "dh-cli-schema-missing"]));
        assert_valid("pid", &json(&["pid", &name]));
        assert_valid("ip", &json(&["ip", &name]));
        let ports = json(&["ports", &name]);
        assert!(!ports.as_array().unwrap().is_empty(), "{engine}: {ports}");
        assert_valid("ports", &ports);
        assert_valid("inspect", &json(&["inspect", &name]));
        assert_valid(
            "ps",
            &json(&["ps", "-a", "--filter", &format!("name={name}")]),
        );
        assert_valid("action", &json(&["stop", "-t", "0", &name]));
        assert_valid("exit-code", &json(&["exit-code", &name]));
        assert_valid("inspect", &json(&["inspect", &name]));
        assert_valid("action", &json(&["rm", &name, "dh-cli-schema-missing"]));
        // Errors: from the engine (not found), from an argument, from no engine.
        for (args, code) in [
            (vec!["--json", "inspect", "dh-cli-schema-missing"], 3),
            (vec!["--json", "stop", "bad name"], 2),
        ] {
            let r = dockhand_on(engine, &args);
            assert_eq!(r.code, code, "{engine} {args:?}: {r:?}");
            assert_valid("error", &r.json_error());
        }
    }
    let r = dockhand(["--engine", "/nonexistent/docker", "--json", "status", "x"]);
    assert_eq!(r.code, 127, "{r:?}");
    assert_valid("error", &r.json_error());
}
