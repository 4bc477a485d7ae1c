//! Property-based fuzzing of every parser over real captured engine output.
//!
//! Each parser gets the real outputs in `vendor-docs/captures` mangled in the
//! ways engines and pipes mangle them — truncated, bytes flipped, garbage
//! inserted, blown up — and must never panic: it either parses or returns a
//! `Parse` error that carries the raw text. scripts/test.sh runs a short pass
//! (PROPTEST_CASES, default 256 per property); for a long run:
//! `PROPTEST_CASES=200000 cargo test --release --test fuzz_parsers`.

use std::path::Path;

use dockhand::{Error, ErrorKind, Result};
use proptest::prelude::*;

type Parser = fn(&[u8]) -> Result<()>;

/// Every parser of engine or host-tool output, with the captures it reads.
fn parsers() -> Vec<(&'static str, Parser, Vec<&'static str>)> {
    vec![
        (
            "version",
            |b| dockhand::system::parse_version(b).map(drop),
            vec![
                "docker/version.json",
                "docker/version-client20.json",
                "podman/version.json",
            ],
        ),
        (
            "json list (ps lines / arrays)",
            |b| dockhand::model::parse_json_list::<serde_json::Value>(b).map(drop),
            vec![
                "docker/ps-all-json-lines.txt",
                "podman/ps-all.json",
                "docker/inspect-two.json",
            ],
        ),
    ]
}

fn corpus(files: &[&str]) -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("vendor-docs/captures");
    files
        .iter()
        .map(|f| std::fs::read(root.join(f)).unwrap_or_else(|e| panic!("capture {f}: {e}")))
        .collect()
}

/// A parser's answer is acceptable when it did not panic and any error is a
/// Parse error keeping the raw output.
fn check(name: &str, result: Result<()>) {
    if let Err(e) = result {
        let e: Error = e;
        assert_eq!(e.kind(), ErrorKind::Parse, "{name}: {e}");
        assert!(e.raw().is_some(), "{name}: parse error without raw text");
    }
}

#[test]
fn real_captures_parse_cleanly() {
    for (name, parse, files) in parsers() {
        for (file, bytes) in files.iter().zip(corpus(&files)) {
            parse(&bytes).unwrap_or_else(|e| panic!("{name} on {file}: {e}"));
        }
    }
}

#[test]
fn huge_output_parses_or_fails_cleanly() {
    for (name, parse, files) in parsers() {
        for bytes in corpus(&files) {
            // 2000 documents back to back: a JSON-lines reader takes them,
            // a single-document parser refuses them; neither panics.
            let huge: Vec<u8> = std::iter::repeat_n(bytes.as_slice(), 2000)
                .flatten()
                .copied()
                .collect();
            check(name, parse(&huge));
        }
    }
}

proptest! {
    #[test]
    fn truncated_output_never_panics(cut in any::<prop::sample::Index>()) {
        for (name, parse, files) in parsers() {
            for bytes in corpus(&files) {
                check(name, parse(&bytes[..cut.index(bytes.len() + 1)]));
            }
        }
    }

    #[test]
    fn garbled_output_never_panics(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16)
    ) {
        for (name, parse, files) in parsers() {
            for mut bytes in corpus(&files) {
                for (at, byte) in &edits {
                    let i = at.index(bytes.len());
                    bytes[i] = *byte;
                }
                check(name, parse(&bytes));
            }
        }
    }

    #[test]
    fn inserted_garbage_never_panics(at in any::<prop::sample::Index>(), junk in prop::collection::vec(any::<u8>(), 0..64)) {
        for (name, parse, files) in parsers() {
            for bytes in corpus(&files) {
                let i = at.index(bytes.len() + 1);
                let mangled = [&bytes[..i], &junk, &bytes[i..]].concat();
                check(name, parse(&mangled));
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        for (name, parse, _) in parsers() {
            check(name, parse(&bytes));
        }
    }

    #[test]
    fn shell_quoted_commands_split_back_to_the_same_argv(args in prop::collection::vec("[^\u{0}]{0,12}", 0..6)) {
        let cmd = dockhand::exec::Cmd::new("docker").args(&args);
        let words = shlex::split(&cmd.to_string()).expect("splits");
        prop_assert_eq!(words, cmd.argv_lossy());
    }

    #[test]
    fn classifying_any_stderr_never_panics(stderr in prop::collection::vec(any::<u8>(), 0..256)) {
        use dockhand::engine::classify::{kind_of, Tool};
        for tool in [Tool::Engine(dockhand::EngineKind::Docker), Tool::Engine(dockhand::EngineKind::Podman), Tool::Host] {
            let _ = kind_of(tool, &stderr);
        }
    }
}
