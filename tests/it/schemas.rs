//! The JSON Schemas in docs/schema/ (issue 17) against real `--json`
//! outputs of both engines: every schema file is checked here, and a field
//! renamed, dropped or retyped in the output fails its schema.
//!
//! The validator is the small subset of JSON Schema (2020-12) the files use:
//! type, enum, properties, required, additionalProperties, items, oneOf,
//! $ref (`#/$defs/NAME`, or `FILE.json#/$defs/NAME` of a sibling file),
//! minimum, maximum.

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
        // `#/$defs/NAME` here, or `FILE.json#/$defs/NAME` in a sibling file.
        let (file, name) = r
            .split_once("#/$defs/")
            .unwrap_or_else(|| panic!("unsupported $ref {r}"));
        if let Some(other) = file.strip_suffix(".json") {
            let other = self::schema(other);
            return violations(&other, &other["$defs"][name], value, at, out);
        }
        assert!(file.is_empty(), "unsupported $ref {r}");
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

/// Panics with the problems when `value` does not match docs/schema/NAME.json.
#[track_caller]
pub fn assert_valid(name: &str, value: &Value) {
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

/// Every file in docs/schema/ is checked against real output by some
/// integration test: its name appears in an `assert_valid("NAME", …)` call in
/// tests/it/ (here, or next to the test that already makes that output).
#[test]
fn every_schema_file_is_checked() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut calls = String::new();
    for entry in std::fs::read_dir(format!("{root}/tests/it")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            calls.extend(text.chars().filter(|c| !c.is_whitespace()));
        }
    }
    let mut unchecked = Vec::new();
    for entry in std::fs::read_dir(format!("{root}/docs/schema")).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        if let Some(name) = file.strip_suffix(".json") {
            schema(name); // parses
            if !calls.contains(&format!("assert_valid(\"{name}\"")) {
                unchecked.push(file);
            }
        }
    }
    assert!(
        unchecked.is_empty(),
        "no test checks {unchecked:?}: add assert_valid(NAME, real output) calls"
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

/// A name with this branch's prefix that nobody else uses.
fn dhs(prefix: &str) -> String {
    crate::support::objects::unique(prefix).replacen("dh-", "dhs-", 1)
}

/// `dockhand --json ARGS` on `engine`, which must succeed: every line of
/// stdout as JSON (one document, or JSON Lines for logs and events).
fn json_lines(engine: &str, args: &[&str]) -> Vec<Value> {
    let r = dockhand_on(
        engine,
        std::iter::once("--json").chain(args.iter().copied()),
    );
    assert_eq!(r.code, 0, "{engine} {args:?}: {r:?}");
    let docs: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(!docs.is_empty(), "{engine} {args:?}: no output");
    docs
}

fn json_of(engine: &str, args: &[&str]) -> Value {
    let mut docs = json_lines(engine, args);
    assert_eq!(docs.len(), 1, "{engine} {args:?}: {docs:?}");
    docs.remove(0)
}

/// Runs `app down -v` of the project when dropped (also on panic).
struct AppDown<'a>(&'a str, &'a [&'a str]);

impl Drop for AppDown<'_> {
    fn drop(&mut self) {
        dockhand_on(self.0, [&["app"], self.1, &["down", "-v"]].concat());
    }
}

/// Images, networks, volumes, build, logs, events, wait-for, stats, top,
/// diff, port, system df, prune and app: one cheap real command per shape,
/// on both engines, reusing one container, network, volume and app.
#[test]
fn resource_outputs_of_both_engines_match_their_schemas() {
    use crate::support::objects::{engines, label_instructions, Objects};
    for engine in engines() {
        let mut cleanup = Cleanup::new(engine);
        let mut objects = Objects::new(engine);
        let since = json_of(engine, &["version"]); // the engine answers
        assert!(since["engine"].is_object(), "{engine}: {since}");
        let case = dhs("case");
        let name = cleanup.add(&dhs("res"));
        let case_label = format!("dhs.case={case}");
        let script = "echo hello; echo oops >&2; touch /made; trap 'exit 0' TERM; while true; do sleep 1; done";
        let mut run = vec![
            "run",
            "-d",
            "--name",
            &name,
            "-p",
            "127.0.0.1::80",
            "--label",
            &case_label,
        ];
        let our = labels();
        run.extend(our.iter().map(String::as_str));
        run.extend([IMAGE, "sh", "-c", script]);
        assert_valid("container", &json_of(engine, &run));
        // A second one, never started: renamed, then removed by cleanup or reset.
        let (made, renamed) = (cleanup.add(&dhs("made")), cleanup.add(&dhs("renamed")));
        let reset_label = format!("dhs.reset={case}");
        let mut create = vec!["create", "--name", &made, "--label", &reset_label];
        create.extend(our.iter().map(String::as_str));
        create.extend([IMAGE, "true"]);
        assert_valid("container", &json_of(engine, &create));
        assert_valid("rename", &json_of(engine, &["rename", &made, &renamed]));
        assert_valid(
            "ids",
            &json_of(
                engine,
                &["ps", "-q", "--filter", &format!("label={case_label}")],
            ),
        );
        let full = json_of(
            engine,
            &[
                "ps",
                "-a",
                "--inspect",
                "--filter",
                &format!("label={reset_label}"),
            ],
        );
        assert_eq!(full.as_array().map(Vec::len), Some(1), "{full}");
        assert_valid("inspect", &full);
        assert_valid("info", &json_of(engine, &["info"]));

        // Images: exists, tag, save, rmi, load, import, commit.
        assert_valid("image-exists", &json_of(engine, &["image-exists", IMAGE]));
        let tagged = objects.image(&format!("{}:1", dhs("tag")));
        assert_valid("tag", &json_of(engine, &["tag", IMAGE, &tagged]));
        let files = tempfile::tempdir().unwrap();
        let archive = files.path().join("saved.tar");
        let archive = archive.to_str().unwrap();
        assert_valid("save", &json_of(engine, &["save", &tagged, "-o", archive]));
        assert_valid("removed", &json_of(engine, &["rmi", &tagged]));
        assert_valid("load", &json_of(engine, &["load", "-i", archive]));
        std::fs::write(files.path().join("f.txt"), "dhs\n").unwrap();
        let tar = files.path().join("f.tar");
        let r = sh(dockhand::exec::Cmd::new("tar")
            .arg("-C")
            .arg(files.path())
            .arg("-cf")
            .arg(&tar)
            .arg("f.txt"));
        assert_eq!(r.code, 0, "{r:?}");
        let imported = objects.image(&format!("{}:1", dhs("imp")));
        let changes = crate::support::objects::import_changes();
        let mut import: Vec<&str> = vec!["import"];
        import.extend(changes.iter().map(String::as_str));
        import.extend([tar.to_str().unwrap(), &imported]);
        assert_valid("import", &json_of(engine, &import));
        let committed = objects.image(&format!("{}:1", dhs("commit")));
        assert_valid("commit", &json_of(engine, &["commit", &name, &committed]));

        // Files and limits of the running one.
        let host_file = files.path().join("f.txt");
        let into = format!("{name}:/copied.txt");
        assert_valid(
            "cp",
            &json_of(engine, &["cp", host_file.to_str().unwrap(), &into]),
        );
        assert_valid(
            "update",
            &json_of(engine, &["update", "--memory", "64m", &name]),
        );
        let tree = files.path().join("tree");
        assert_valid(
            "export",
            &json_of(engine, &["export", &name, tree.to_str().unwrap()]),
        );
        assert_valid(
            "dockerfile",
            &json_of(
                engine,
                &[
                    "dockerfile",
                    "--from",
                    IMAGE,
                    "--cmd",
                    "sleep 1",
                    "--env",
                    "A=b",
                ],
            ),
        );

        for args in [
            &["images", "--filter", &format!("reference={IMAGE}")][..],
            &["image", "inspect", IMAGE],
        ] {
            let images = json_of(engine, args);
            assert_eq!(images.as_array().map(Vec::len), Some(1), "{images}");
            assert_valid("images", &images);
        }
        assert_valid(
            "image-history",
            &json_of(engine, &["image", "history", IMAGE]),
        );

        // A network and a volume of this case: created, listed, previewed by
        // a prune (both unused yet), then used and removed.
        let only_ours = format!("label=dhs.case={case}");
        let our_labels = [labels(), vec!["--label".into(), format!("dhs.case={case}")]].concat();
        let create = |what: &str, name: &str| {
            let mut args = vec![what, "create", name];
            args.extend(our_labels.iter().map(String::as_str));
            json_of(engine, &args)
        };
        let preview = |kind: &str| {
            let doc = json_of(
                engine,
                &["--dry-run", "prune", kind, "--filter", &only_ours],
            );
            assert_eq!(doc["dry_run"], true, "{doc}");
            assert_valid("prune", &doc);
            doc["objects"].to_string()
        };
        let net = objects.network(&dhs("net"));
        let vol = objects.volume(&dhs("vol"));
        assert_valid("networks", &create("network", &net));
        assert_valid("volumes", &create("volume", &vol));
        assert!(preview("networks").contains(&net), "{engine}");
        assert!(preview("volumes").contains(&vol), "{engine}");
        preview("images");
        let by_name = |name: &str| format!("name={name}");
        for (what, name, schema) in [("network", &net, "networks"), ("volume", &vol, "volumes")] {
            let listed = json_of(engine, &[what, "ls", "--filter", &by_name(name)]);
            assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
            assert_valid(schema, &listed);
            assert_valid(schema, &json_of(engine, &[what, "inspect", name]));
        }
        let connected = json_of(engine, &["network", "connect", &net, &name]);
        assert_valid("network-connect", &connected);
        assert_valid(
            "network-gateway",
            &json_of(engine, &["network", "gateway", &net]),
        );
        let gateways = json_of(engine, &["gateway", &name]);
        assert_eq!(gateways.as_array().map(Vec::len), Some(2), "{gateways}");
        assert_valid("gateway", &gateways);
        assert_valid(
            "network-connect",
            &json_of(engine, &["network", "disconnect", &net, &name]),
        );
        assert_valid("removed", &json_of(engine, &["network", "rm", &net]));
        assert_valid("removed", &json_of(engine, &["volume", "rm", &vol]));

        assert_valid(
            "wait-for",
            &json_of(engine, &["wait-for", "--running", &name]),
        );
        assert_valid(
            "wait-for",
            &json_of(engine, &["wait-for", "--log", "oops", &name]),
        );
        let lines = json_lines(engine, &["logs", &name]);
        assert_eq!(lines.len(), 2, "{engine}: {lines:?}");
        lines.iter().for_each(|l| assert_valid("log-line", l));
        assert_valid("stats", &json_of(engine, &["stats", &name]));
        assert_valid("top", &json_of(engine, &["top", &name]));
        let diff = json_of(engine, &["diff", &name]);
        assert!(diff.to_string().contains("/made"), "{engine}: {diff}");
        assert_valid("diff", &diff);
        assert_valid("ports", &json_of(engine, &["port", &name]));
        assert_valid("df", &json_of(engine, &["system", "df"]));

        // A stopped container: in the preview, then pruned.
        assert_valid("action", &json_of(engine, &["stop", "-t", "0", &name]));
        assert!(preview("containers").contains(&name), "{engine}");
        let pruned = json_of(
            engine,
            &["prune", "containers", "--yes", "--filter", &only_ours],
        );
        assert_eq!(
            pruned["objects"].as_array().map(Vec::len),
            Some(1),
            "{pruned}"
        );
        assert_valid("prune", &pruned);
        let events = json_lines(
            engine,
            &[
                "events",
                "--since",
                "5m",
                "--until",
                "0s",
                "--filter",
                &format!("container={name}"),
            ],
        );
        assert!(events.len() >= 3, "{engine}: {events:?}");
        events.iter().for_each(|e| assert_valid("event", e));
        let cleaned = json_of(engine, &["cleanup", "--prefix", &renamed]);
        assert_valid("action", &cleaned);
        let reset = json_of(engine, &["reset", "--label", &reset_label, "--yes"]);
        assert_valid("action", &reset);
        assert!(
            format!("{cleaned}{reset}").contains(&renamed),
            "{engine}: neither cleanup nor reset removed {renamed}"
        );

        // build: a Dockerfile without RUN (quick on both engines).
        let ctx = tempfile::tempdir().unwrap();
        std::fs::write(
            ctx.path().join("Dockerfile"),
            format!("FROM {IMAGE}\n{}\n", label_instructions()),
        )
        .unwrap();
        let tag = objects.image(&format!("{}:1", dhs("built")));
        let built = json_of(engine, &["build", "-t", &tag, ctx.path().to_str().unwrap()]);
        assert_valid("build", &built);

        // app: one service, its volume and network, up and down.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("compose.yaml"),
            format!(
                "services:\n  one:\n    image: {IMAGE}\n    command: [sh, -c, \"echo up; trap 'exit 0' TERM; while true; do sleep 1; done\"]\n    labels: {{{TEST_LABEL}: \"1\", {OWNER_LABEL}: \"{}\"}}\n    ports: [\"127.0.0.1::80\"]\n    volumes: [data:/data]\nvolumes:\n  data: {{}}\n",
                std::process::id()
            ),
        )
        .unwrap();
        let file = dir.path().join("compose.yaml");
        let project = dhs("app");
        let app: [&str; 4] = ["-f", file.to_str().unwrap(), "-p", &project];
        let _down = AppDown(engine, &app);
        fn on<'a>(app: &[&'a str], args: &[&'a str]) -> Vec<&'a str> {
            [&["app"], app, args].concat()
        }
        let on_app = |args: &[&'static str]| on(&app, args);
        assert_valid("app-config", &json_of(engine, &on_app(&["config"])));
        assert_valid(
            "app-config",
            &json_of(engine, &on_app(&["config", "--services"])),
        );
        assert_valid("app-plan", &json_of(engine, &on_app(&["plan"])));
        assert_valid("app-up", &json_of(engine, &on_app(&["up"])));
        let ps = json_of(engine, &on_app(&["ps"]));
        assert_eq!(ps.as_array().map(Vec::len), Some(1), "{ps}");
        assert_valid("app-ps", &ps);
        json_lines(engine, &on_app(&["logs"]))
            .iter()
            .for_each(|l| assert_valid("app-log-line", l));
        assert_valid("action", &json_of(engine, &on_app(&["stop"])));
        assert_valid(
            "app-plan",
            &json_of(engine, &[&["--dry-run"], &on_app(&["down"])[..]].concat()),
        );
        assert_valid("app-up", &json_of(engine, &on_app(&["down", "-v"])));
    }
}
