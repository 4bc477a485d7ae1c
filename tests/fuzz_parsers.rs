//! Property-based fuzzing of every parser of engine and host-tool output,
//! over the real captured outputs in `vendor-docs/captures`.
//!
//! Each [`Target`] is one parser as the library uses it — a pure parse
//! function, or a plan's parser fed an outcome exactly as the executor would
//! hand it over (exit 0 with stdout, or a failed exit with stderr, classified
//! like a real failure) — with the captures it reads. The captures are
//! mangled the ways engines, pipes and version upgrades mangle output:
//! truncated, bytes flipped, garbage bytes or text inserted, a JSON field
//! given another type, blown up, arbitrary bytes. A parser must never panic
//! (parsed values are also serialized, as the CLI prints them): it returns a
//! value or a `Parse` error that keeps the raw text (targets that read a
//! failed command's stderr may return the engine's own classified error).
//! The streaming log decoder must in addition give the same lines however
//! the input is cut into reads, never a line over its limit, and — without
//! timestamps — exactly the bytes it was given.
//!
//! scripts/test.sh runs the default pass: [`DEFAULT_CASES`] (256) cases per
//! property, each case mangling one capture of every target. A long run:
//! `PROPTEST_CASES=100000 cargo test --release --all-features --test fuzz_parsers`
//! (results in docs/reliability.md). Failing cases found so far are replayed
//! first from `fuzz_parsers.proptest-regressions`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use dockhand::container::wait;
use dockhand::container::{self, Action};
use dockhand::decode::json;
use dockhand::decode::lines::{Line, LineDecoder, PartStamps};
use dockhand::decode::time::Timestamp;
use dockhand::engine::classify::{kind_of, Tool};
use dockhand::engine::plan::{Plan, Program};
use dockhand::engine::{batch, Argv};
use dockhand::exec::Cmd;
use dockhand::image::build;
use dockhand::image::context::LocalContext;
use dockhand::input::{ContainerRef, ImageRef, ImageTag};
use dockhand::netns::ip::{parse_links, parse_routes, Family};
use dockhand::netns::link::Record;
use dockhand::{
    events, image, netns, network, prune, system, testing, volume, EngineKind, Error, ErrorKind,
    Result,
};
use proptest::prelude::*;
use proptest::sample::Index;
use serde::Serialize;
use serde_json::Value;

/// A parser under test: gets the (mangled) bytes and the tool whose output
/// they are (from the capture's directory).
type Parse = fn(Tool, &[u8]) -> Result<()>;

/// What a target may answer besides a value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Answers {
    /// Only a `Parse` error that keeps the raw text.
    ParseError,
    /// A `Parse` error, or this kind, which the parser derives from what
    /// the engine said (a container that does not run: Conflict).
    ParseErrorOr(ErrorKind),
    /// Also the failure the engine reported itself, classified: a failed
    /// command's stderr, docker `info`'s `ServerErrors`.
    EngineError,
}

/// One parser of engine or host output, with the captures it reads.
struct Target {
    name: &'static str,
    parse: Parse,
    /// Paths under vendor-docs/captures; `*` matches within a name, and a
    /// leading `!` removes what earlier patterns matched.
    captures: &'static [&'static str],
    answers: Answers,
}

/// A target with its captures read.
struct Loaded {
    target: Target,
    files: Vec<(String, Tool, Vec<u8>)>,
}

// ---------------------------------------------------------------------------
// Feeding outcomes to plans the way the executor does.

/// Finish `plan` as if its command had exited 0 printing `stdout`.
fn ran_ok<T: 'static>(plan: Plan<T>, stdout: &[u8]) -> Result<T> {
    testing::replay_ok(EngineKind::Docker, plan, stdout)
}

/// Finish `plan` as if its command had printed `stdout` and `stderr` and
/// exited with the engine's usual failure code, classified like a real run.
fn ran_failed<T: 'static>(tool: Tool, plan: Plan<T>, stdout: &[u8], stderr: &[u8]) -> Result<T> {
    let (tool, program, code) = match (plan.program(), tool) {
        (Program::Host(p), _) => (Tool::Host, p.to_string_lossy().into_owned(), 1),
        (Program::Engine, Tool::Engine(EngineKind::Podman)) => (tool, "podman".into(), 125),
        (Program::Engine, _) => (Tool::Engine(EngineKind::Docker), "docker".into(), 1),
    };
    let cmd = Cmd::new(program).args(plan.args());
    plan.parse_outcome(testing::outcome(tool, &cmd, code, stdout, stderr))
}

/// The engine dialect of a capture (host-tool captures: docker's).
fn engine(tool: Tool) -> EngineKind {
    match tool {
        Tool::Engine(kind) => kind,
        Tool::Host => EngineKind::Docker,
    }
}

/// Serialize a parsed value as the CLI prints it: formatting what the engine
/// said must not panic either.
fn shown<T: Serialize>(value: T) {
    serde_json::to_vec(&value).expect("parsed values serialize");
}

/// `Ok` for a clean `Parse` error; anything else is passed on for [`check`]
/// to judge (used where one input holds many documents, such as lines).
fn clean<T>(result: Result<T>) -> Result<()> {
    match result {
        Err(e) if e.kind() == ErrorKind::Parse && e.raw().is_some() => Ok(()),
        other => other.map(drop),
    }
}

fn refs(names: &[&str]) -> Vec<ContainerRef> {
    ContainerRef::many(names.iter().copied()).unwrap()
}

/// The bytes of a capture, read once.
fn capture(path: &str) -> &'static [u8] {
    static CACHE: OnceLock<Mutex<HashMap<String, &'static [u8]>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap();
    cache
        .entry(path.to_string())
        .or_insert_with(|| Box::leak(testing::capture(path).into_boxed_slice()))
}

fn captures_dir() -> PathBuf {
    testing::capture_path("")
}

// ---------------------------------------------------------------------------
// Every parser of engine or host output.

/// The lines a log stream fed in these pieces decodes to.
fn log_lines(stamps: Option<PartStamps>, max_line: usize, pieces: &[&[u8]]) -> Vec<Line> {
    let mut d = LineDecoder::new(stamps, max_line);
    let mut out = Vec::new();
    for p in pieces {
        d.push(p, &mut out);
    }
    d.finish(&mut out);
    out
}

/// Where `tool`'s engine puts the timestamps of a line's later parts
/// (docker: every 16 KiB; podman: at every write).
fn part_stamps(tool: Tool) -> PartStamps {
    match tool {
        Tool::Engine(EngineKind::Podman) => PartStamps::AnyWrite,
        _ => PartStamps::EveryChunk(16_384),
    }
}

/// The containers a stats capture shows, as full ids (the 12-hex short ids
/// it prints, padded) with names: what dockhand would have asked for.
fn stats_ids(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    let text = String::from_utf8_lossy(bytes);
    let mut ids: Vec<String> = Vec::new();
    for key in ["\"ID\":\"", "\"id\": \""] {
        for (i, _) in text.match_indices(key) {
            let id: String = text[i + key.len()..].chars().take(12).collect();
            if id.len() == 12 && id.chars().all(|c| c.is_ascii_hexdigit()) {
                let full = format!("{id}{}", "0".repeat(52));
                if !ids.contains(&full) {
                    ids.push(full);
                }
            }
        }
    }
    let names = (0..ids.len()).map(|i| format!("c{i}")).collect();
    (ids, names)
}

/// The id written to `build --iidfile`, read back by the build plan.
fn build_id_from_iidfile(tool: Tool, iidfile_text: &[u8]) -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let iidfile = dir.path().join("iid");
    std::fs::write(&iidfile, iidfile_text).unwrap();
    let opts = build::BuildOptions::new(dir.path());
    let local = LocalContext::Dir {
        path: dir.path().into(),
        dockerfile: None,
    };
    ran_ok(
        build::build_plan(engine(tool), &opts, &local, &iidfile),
        b"",
    )
    .map(shown)
}

fn targets() -> Vec<Target> {
    use Answers::{EngineError, ParseError};
    vec![
        Target {
            name: "version",
            parse: |_, b| system::parse_version(b).map(shown),
            captures: &["*/version.json", "*/version-client*.json"],
            answers: ParseError,
        },
        Target {
            name: "version with the daemon down (client half + error)",
            parse: |t, b| {
                let stderr = capture("docker/err-daemon-down-version-json.stderr.txt");
                ran_failed(t, system::version_plan(engine(t)), b, stderr).map(|(v, _)| shown(v))
            },
            captures: &["docker/err-daemon-down-version-json*.stdout.txt"],
            answers: EngineError,
        },
        Target {
            name: "info",
            parse: |t, b| system::parse_info(engine(t), b).map(shown),
            captures: &[
                "*/info.json",
                "docker/info-client20.json",
                "docker/err-daemon-down-info-json*.stdout.txt",
            ],
            answers: EngineError,
        },
        Target {
            name: "json list (array or JSON lines)",
            parse: |_, b| json::parse_json_list::<Value>(b).map(drop),
            captures: &["docker/ps-all-json-lines.txt", "podman/ps-all.json"],
            answers: ParseError,
        },
        Target {
            name: "container inspect",
            parse: |_, b| container::parse_inspect(b).map(shown),
            captures: &[
                "*/inspect-*.json",
                "!*/inspect-image-via-plain-inspect.json",
                "*/container-inspect-*.json",
                "*/containers-inspect-*.json",
                "*/containers-inspect-*.stdout.txt",
            ],
            answers: ParseError,
        },
        Target {
            name: "container inspect of some missing names (stderr)",
            parse: |t, b| {
                let plan = container::inspect_plan(&refs(&["dhcap-full", "dhcap-missing"]));
                ran_failed(t, plan, b"", b).map(|found| shown(found.items))
            },
            captures: &[
                "*/containers-inspect-*-missing.stderr.txt",
                "*/inspect-*missing*.stderr.txt",
                "*/err-*inspect-missing*.stderr.txt",
                "*/err-daemon-down-*inspect*.stderr.txt",
                "*/err-inspect-ambiguous-prefix.stderr.txt",
            ],
            answers: EngineError,
        },
        Target {
            name: "network members (container inspect)",
            parse: |_, b| ran_ok(network::attachments_plan(&["x".into()]), b).map(shown),
            captures: &[
                "*/containers-inspect-full.json",
                "*/container-inspect-two-networks.json",
                "*/inspect-running.json",
            ],
            answers: ParseError,
        },
        Target {
            name: "ps -q (container ids)",
            parse: |_, b| ran_ok(container::ps_ids_plan(&Default::default()), b).map(shown),
            captures: &["docker/ps-quiet.txt", "*/ps-quiet-no-trunc-all.txt"],
            answers: ParseError,
        },
        Target {
            name: "id prefixes (ps ID<TAB>NAMES)",
            parse: |_, b| {
                let plan = container::resolve_plan(&refs(&["e0297c", "5", "dhcap-rel-docker-a"]));
                match ran_ok(plan, b) {
                    // Several containers matching a prefix is the user's problem.
                    Err(e)
                        if e.kind() == ErrorKind::InvalidInput
                            && e.message().contains("ambiguous") =>
                    {
                        Ok(())
                    }
                    other => other.map(shown),
                }
            },
            captures: &["*/ps-id-names-table.txt"],
            answers: ParseError,
        },
        Target {
            name: "run -d / create (container id)",
            parse: |_, b| {
                let opts = container::RunOptions::new(ImageRef::new("busybox").unwrap());
                let steps = container::launch_steps(
                    dockhand::EngineKind::Docker,
                    container::Launch::RunDetached,
                    &opts,
                    None,
                    "t",
                );
                ran_ok(steps.create, b).map(shown)
            },
            captures: &["*/run-detach.stdout.txt", "*/create.stdout.txt"],
            answers: ParseError,
        },
        Target {
            name: "commit (image id)",
            parse: |t, b| {
                let plan = container::commit_plan(
                    engine(t),
                    &ContainerRef::new("web").unwrap(),
                    &ImageTag::new("web:snap").unwrap(),
                    &Default::default(),
                );
                ran_ok(plan, b).map(shown)
            },
            captures: &["*/commit.stdout.txt"],
            answers: ParseError,
        },
        Target {
            name: "wait (exit code)",
            parse: |_, b| {
                ran_ok(container::wait_plan(&ContainerRef::new("job").unwrap()), b).map(shown)
            },
            captures: &["*/wait-*.stdout.txt"],
            answers: ParseError,
        },
        Target {
            name: "ps rows (docker template, podman JSON)",
            parse: |t, b| ran_ok(container::ps_plan(engine(t), &Default::default()), b).map(shown),
            captures: &[
                "docker/ps-flags-json-lines*.txt",
                "docker/ps-flags-custom-template*.txt",
                "docker/ps-all-json-lines.txt",
                "*/vb-ps-template*.stdout.txt",
                "podman/ps-flags-all*.json",
                "podman/ps-prealloc-*.json",
                "podman/ps-all.json",
            ],
            answers: ParseError,
        },
        Target {
            name: "stats --no-stream",
            parse: |t, b| {
                let (ids, names) = stats_ids(b);
                ran_ok(container::stats_plan(engine(t), &ids, &names), b).map(shown)
            },
            captures: &["*/stats-no-stream-*.stdout.txt"],
            answers: ParseError,
        },
        Target {
            name: "stats stream frames",
            parse: |t, b| {
                let (ids, names) = stats_ids(b);
                container::stats_frames(engine(t), &ids, &names, b)
                    .into_iter()
                    .try_for_each(|f| clean(f.map(shown)))
            },
            captures: &["*/stats-stream-*.stdout.txt"],
            answers: ParseError,
        },
        Target {
            name: "top (process columns)",
            parse: |t, b| {
                let web = ContainerRef::new("web").unwrap();
                ran_ok(container::top_plan(engine(t), &web, &[]), b).map(shown)
            },
            captures: &["*/top-*.txt", "!*/top-*.stderr.txt"],
            answers: ParseError,
        },
        Target {
            name: "diff (A/C/D lines)",
            parse: |_, b| {
                ran_ok(container::diff_plan(&ContainerRef::new("web").unwrap()), b).map(shown)
            },
            captures: &["*/diff-*.txt"],
            answers: ParseError,
        },
        Target {
            name: "image history",
            parse: |t, b| {
                let img = ImageRef::new("busybox").unwrap();
                ran_ok(image::history_plan(engine(t), &img), b).map(shown)
            },
            captures: &[
                "docker/image-history-*.txt",
                // 20.10 prints the word `json` for `--format json`: dockhand uses the template.
                "!docker/image-history-format-json-shortcut-client20.txt",
                "podman/image-history-*.json",
                "*/vb-history-bytes*.stdout.txt",
            ],
            answers: ParseError,
        },
        Target {
            name: "system df",
            parse: |_, b| ran_ok(system::df_plan(), b).map(shown),
            captures: &[
                "docker/system-df-json-lines*.txt",
                "podman/system-df-go-template.txt",
            ],
            answers: ParseError,
        },
        Target {
            name: "prune report",
            parse: |t, b| {
                let now = Timestamp::from_unix(1_800_000_000, 0);
                let plan = prune::prune_plan(engine(t), prune::PruneKind::Containers, &[], now)?;
                ran_ok(plan, b).map(shown)
            },
            captures: &["*/prune-*.stdout.txt"],
            answers: ParseError,
        },
        Target {
            name: "lifecycle actions on some missing/stopped names (stderr)",
            parse: |t, b| {
                let ids = [
                    "vd-missing".to_string(),
                    "2557d6bea92ca43ea7ee56fc049d68b76111d900e62a2f9e618083d1f55c742a".into(),
                ];
                let plan = container::action_plan(engine(t), &Action::Stop { timeout: None }, &ids);
                ran_failed(t, plan, b"vd-exited\n", b).map(drop)
            },
            captures: &[
                "*/err-stop-*.stderr.txt",
                "*/err-start-*.stderr.txt",
                "*/err-kill-*.stderr.txt",
                "*/err-pause-*.stderr.txt",
                "*/err-unpause-*.stderr.txt",
                "*/err-rm-*.stderr.txt",
                "*/err-restart-*.stderr.txt",
                "*/err-remote-*-missing.stderr.txt",
            ],
            answers: EngineError,
        },
        Target {
            name: "netns: running container (inspect --format)",
            parse: |_, b| {
                ran_ok(
                    netns::running_container_plan(&ContainerRef::new("web").unwrap()),
                    b,
                )
                .map(drop)
            },
            captures: &["*/inspect-format-id-state.txt"],
            answers: Answers::ParseErrorOr(ErrorKind::Conflict),
        },
        Target {
            name: "healthcheck run (podman)",
            parse: |t, b| {
                ran_failed(
                    t,
                    wait::healthcheck_run_plan(&ContainerRef::new("web").unwrap()),
                    b"",
                    b,
                )
                .map(shown)
            },
            captures: &[
                "podman/healthcheck-run.stderr.txt",
                "podman/err-healthcheck-run-*.stderr.txt",
            ],
            answers: EngineError,
        },
        Target {
            name: "image inspect",
            parse: |_, b| image::parse_images(b).map(shown),
            captures: &[
                "*/image-inspect-*.json",
                "*/inspect-image-via-plain-inspect.json",
                "*/image-inspect-found-and-missing.stdout.txt",
            ],
            answers: ParseError,
        },
        Target {
            name: "image/network/volume inspect of some missing names (stderr)",
            parse: |t, b| {
                let plan = image::inspect_plan(&ImageRef::many(["a:1", "b"]).unwrap());
                ran_failed(t, plan, b"", b).map(shown)
            },
            captures: &[
                "*/image-inspect-found-and-missing.stderr.txt",
                "*/network-inspect-found-and-missing.stderr.txt",
                "*/volume-inspect-found-and-missing.stderr.txt",
                "*/err-*-inspect-missing.stderr.txt",
            ],
            answers: EngineError,
        },
        Target {
            name: "images -q (image ids)",
            parse: |_, b| ran_ok(image::list_ids_plan(&Default::default()), b).map(shown),
            captures: &["*/images-quiet-no-trunc*.txt"],
            answers: ParseError,
        },
        Target {
            name: "import (image id)",
            parse: |_, b| {
                let opts = image::ImportOptions::new("/tmp/rootfs.tar", None);
                ran_ok(image::import_plan(&opts), b).map(shown)
            },
            captures: &["*/import-output.stdout.txt"],
            answers: ParseError,
        },
        Target {
            name: "load (loaded names)",
            parse: |_, b| ran_ok(image::load_plan(Path::new("/tmp/x.tar"), None), b).map(shown),
            captures: &["*/load-output*.stdout.txt"],
            answers: ParseError,
        },
        Target {
            name: "pull failure (stderr)",
            parse: |t, b| {
                let opts = image::PullOptions::new(ImageRef::new("busybox").unwrap());
                ran_failed(
                    t,
                    image::registry::pull_plan(engine(t), &opts, false),
                    b"",
                    b,
                )
                .map(shown)
            },
            captures: &["*/err-pull-*.stderr.txt", "*/err-registry-*.stderr.txt"],
            answers: EngineError,
        },
        Target {
            name: "pull digest (docker stdout)",
            parse: |_, b| {
                let opts = image::PullOptions::new(ImageRef::new("busybox").unwrap());
                ran_ok(
                    image::registry::pull_plan(EngineKind::Docker, &opts, false),
                    b,
                )
                .map(shown)
            },
            captures: &["docker/registry-pull-*.stdout.txt"],
            answers: ParseError,
        },
        Target {
            name: "push digest (docker stdout)",
            parse: |_, b| {
                let opts = image::PushOptions::new(ImageTag::new("r:1/a").unwrap());
                let plan = image::registry::push_plan(
                    EngineKind::Docker,
                    &opts,
                    false,
                    Path::new("/nonexistent"),
                );
                ran_ok(plan, b).map(shown)
            },
            captures: &["docker/registry-push*.stdout.txt"],
            answers: ParseError,
        },
        Target {
            name: "build id (iidfile)",
            parse: build_id_from_iidfile,
            captures: &[
                "*/build-iidfile.txt",
                "docker/build-buildkit-iidfile-client20.txt",
            ],
            answers: ParseError,
        },
        Target {
            name: "build failure (stdout and stderr)",
            parse: |t, b| {
                let opts = build::BuildOptions::new("/tmp/ctx");
                let local = LocalContext::Tarball {
                    path: "/tmp/ctx.tar".into(),
                    dockerfile: None,
                };
                ran_failed(
                    t,
                    build::build_plan(engine(t), &opts, &local, Path::new("/nonexistent/iid")),
                    b,
                    b,
                )
                .map(shown)
            },
            captures: &[
                "*/build-*fail*.stderr.txt",
                "*/build-*fail*.stdout.txt",
                "*/err-build-*.stderr.txt",
            ],
            answers: EngineError,
        },
        Target {
            name: "removal report (rm/rmi/network rm/volume rm)",
            parse: |t, b| {
                ran_ok(
                    batch::remove_plan(engine(t), Argv::new("rmi").operands(["a"])),
                    b,
                )
                .map(shown)
            },
            captures: &[
                "*/rmi-*.stdout.txt",
                "*/network-rm-*.txt",
                "!*/network-rm-*.stderr.txt",
                "*/volume-rm-*.stdout.txt",
            ],
            answers: ParseError,
        },
        Target {
            name: "removal with failures (stderr)",
            parse: |t, b| {
                ran_failed(
                    t,
                    batch::remove_plan(engine(t), Argv::new("rmi").operands(["a"])),
                    b"",
                    b,
                )
                .map(shown)
            },
            captures: &[
                "*/rmi-found-and-missing.stderr.txt",
                "*/*-rm-found-and-missing.stderr.txt",
                "*/err-rmi-*.stderr.txt",
                "*/err-*-rm-*.stderr.txt",
            ],
            answers: EngineError,
        },
        Target {
            name: "network inspect",
            parse: |_, b| network::parse_networks(b).map(shown),
            captures: &[
                "*/network-inspect-*.json",
                "*/network-inspect-found-and-missing.stdout.txt",
            ],
            answers: ParseError,
        },
        Target {
            name: "network ls -q (network ids)",
            parse: |_, b| ran_ok(network::list_plan(&[]), b).map(shown),
            captures: &["*/network-ls-quiet-no-trunc.txt"],
            answers: ParseError,
        },
        Target {
            name: "volume inspect",
            parse: |_, b| volume::parse_volumes(b).map(shown),
            captures: &[
                "*/volume-inspect*.json",
                "*/volume-inspect-found-and-missing.stdout.txt",
            ],
            answers: ParseError,
        },
        Target {
            name: "volume ls -q (volume names)",
            parse: |_, b| ran_ok(volume::list_plan(&[]), b).map(shown),
            captures: &["*/volume-ls-quiet.txt"],
            answers: ParseError,
        },
        Target {
            name: "events (one JSON object per line)",
            parse: |_, b| {
                b.split(|c| *c == b'\n')
                    .filter(|l| !l.is_empty())
                    .try_for_each(|l| clean(events::parse_event(l).map(shown)))
            },
            captures: &[
                "docker/events-lifecycle.txt",
                "docker/events-actions.txt",
                "docker/events-lifecycle-filtered.txt",
                "docker/events-lifecycle-rfc3339.txt",
                "docker/events-lifecycle-json-shortcut.txt",
                "podman/events-lifecycle.txt",
                "podman/events-actions.txt",
                "podman/events-lifecycle-filtered.txt",
                "podman/events-no-until-stream-false.txt",
            ],
            answers: ParseError,
        },
        Target {
            name: "log lines with engine timestamps",
            parse: |t, b| {
                let lines = log_lines(Some(part_stamps(t)), 64 * 1024, &[b]);
                lines
                    .iter()
                    .for_each(|l| drop(l.time.map(|t| t.to_string())));
                Ok(())
            },
            captures: &[
                "*/logs-*timestamps.stdout.txt",
                "*/logs-*timestamps.stderr.txt",
            ],
            answers: ParseError,
        },
        Target {
            name: "log lines without timestamps",
            parse: |_, b| {
                log_lines(None, 64 * 1024, &[b]);
                Ok(())
            },
            captures: &[
                "*/logs-plain.*.txt",
                "*/logs-partial-writes.*.txt",
                "*/logs-tail-all.*.txt",
            ],
            answers: ParseError,
        },
        Target {
            name: "log timestamps (RFC 3339 prefix of each line)",
            parse: |_, b| {
                for line in b.split(|c| *c == b'\n') {
                    for nine in [false, true] {
                        if let Some((t, n)) = Timestamp::parse_rfc3339_prefix(line, nine) {
                            assert!(n <= line.len(), "length {n} beyond the input");
                            let text = t.to_rfc3339();
                            // The canonical form reads back (within years 1..9999).
                            if (-62_135_596_800 + 86_400..253_402_300_799 - 86_400)
                                .contains(&t.unix_secs())
                            {
                                assert_eq!(Timestamp::parse_rfc3339(&text), Some(t), "{text}");
                            }
                        }
                    }
                }
                Ok(())
            },
            captures: &[
                "*/logs-timestamps.stdout.txt",
                "*/logs-long-line-timestamps.stdout.txt",
            ],
            answers: ParseError,
        },
        Target {
            name: "ip -j link/addr show",
            parse: |_, b| parse_links(b).map(shown),
            captures: &[
                "iproute2/link-show*.json",
                "iproute2/addr-show*.json",
                "iproute2/host-addr-*.json",
                "iproute2/stats-link-show.json",
                "iproute2/netns-*-link-show*.json",
                "iproute2/netns-*-addr-show*.json",
            ],
            answers: ParseError,
        },
        Target {
            name: "ip -j route show",
            parse: |_, b| parse_routes(b, Family::Inet).map(shown),
            captures: &[
                "iproute2/route-*.json",
                "iproute2/netns-*-route-show.json",
                "iproute2/route6-show.json",
                "iproute2/netns-*-route6-*.json",
            ],
            answers: ParseError,
        },
        Target {
            name: "dockhand's interface records (ifalias)",
            parse: |_, b| {
                for link in parse_links(b)? {
                    if let Some(r) = Record::of(&link) {
                        assert_eq!(
                            Record::parse(&r.alias()),
                            Some(r.clone()),
                            "the alias reads back"
                        );
                        shown(r);
                    }
                }
                Ok(())
            },
            captures: &[
                "iproute2/host-addr-show-details-*.json",
                "iproute2/netns-dockhand-*-addr-show-details.json",
            ],
            answers: ParseError,
        },
        Target {
            name: "error classifier (stderr of failed commands)",
            parse: |t, b| {
                let _ = kind_of(t, b);
                Ok(())
            },
            captures: &["*/err-*.stderr.txt"],
            answers: ParseError,
        },
    ]
}

// ---------------------------------------------------------------------------
// Captures and checks.

/// Whether `name` matches `pattern` (`*`: any run of characters).
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => {
            name.starts_with(head)
                && (head.len()..=name.len())
                    .any(|i| name.is_char_boundary(i) && glob(rest, &name[i..]))
        }
    }
}

fn tool_of(path: &str) -> Tool {
    match path.split('/').next() {
        Some("docker") => Tool::Engine(EngineKind::Docker),
        Some("podman") => Tool::Engine(EngineKind::Podman),
        _ => Tool::Host,
    }
}

/// Every target with its captures, read once.
fn corpus() -> &'static [Loaded] {
    static CORPUS: OnceLock<Vec<Loaded>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut all: Vec<String> = Vec::new();
        for dir in std::fs::read_dir(captures_dir()).unwrap().flatten() {
            for f in std::fs::read_dir(dir.path()).unwrap().flatten() {
                all.push(format!(
                    "{}/{}",
                    dir.file_name().to_string_lossy(),
                    f.file_name().to_string_lossy()
                ));
            }
        }
        all.sort();
        targets()
            .into_iter()
            .map(|target| {
                let mut chosen: Vec<&String> = Vec::new();
                for pattern in target.captures {
                    match pattern.strip_prefix('!') {
                        Some(p) => chosen.retain(|f| !glob(p, f)),
                        None => {
                            let found: Vec<&String> =
                                all.iter().filter(|f| glob(pattern, f)).collect();
                            assert!(
                                !found.is_empty(),
                                "{}: no capture matches {pattern}",
                                target.name
                            );
                            chosen.extend(found);
                        }
                    }
                }
                chosen.sort();
                chosen.dedup();
                let files = chosen
                    .into_iter()
                    .map(|f| (f.clone(), tool_of(f), capture(f).to_vec()))
                    .collect();
                Loaded { target, files }
            })
            .collect()
    })
}

/// A parser's answer is acceptable when it did not panic and any error is
/// one the target may give.
fn check(target: &Target, file: &str, result: Result<()>) {
    let Err(e): Result<()> = result else { return };
    let e: Error = e;
    // The CLI prints every error: formatting it must not panic either.
    let _ = e.to_string();
    match (target.answers, e.kind()) {
        (_, ErrorKind::Parse) => assert!(
            e.raw().is_some(),
            "{} on mangled {file}: Parse error without the raw text: {e}",
            target.name
        ),
        (Answers::EngineError, _) => {
            assert!(
                !e.message().is_empty(),
                "{} on mangled {file}: empty message",
                target.name
            )
        }
        (Answers::ParseErrorOr(allowed), kind) if kind == allowed => {}
        (_, kind) => panic!(
            "{} on mangled {file}: a {kind} error where only Parse may come: {e}",
            target.name
        ),
    }
}

/// Run every target on one capture each (chosen by `pick`), mangled by `mangle`.
fn each_target(pick: Index, mangle: impl Fn(&[u8]) -> Vec<u8>) {
    for loaded in corpus() {
        let (file, tool, bytes) = &loaded.files[pick.index(loaded.files.len())];
        let mangled = mangle(bytes);
        check(&loaded.target, file, (loaded.target.parse)(*tool, &mangled));
    }
}

/// Values a field may suddenly hold after an engine upgrade or a bug.
fn odd_values() -> Vec<Value> {
    serde_json::from_str::<Vec<Value>>(
        r#"[null, true, false, 0, -1, 1.5, -0.0, 1e308, 18446744073709551615, -9223372036854775808,
            "", " ", "x", "-1", "9999999999999999999999", "2026-13-45T99:99:99Z", "\u0000", "é€😀",
            [], [null], {}, {"": null}, [[[[[[[[[[]]]]]]]]]], {"a": {"b": {"c": [1, "2", null]}}}]"#,
    )
    .unwrap()
    .into_iter()
    .chain([Value::String("long".repeat(5000))])
    .collect()
}

/// Every node of a JSON document, as a pointer.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, x)| pointers(x, format!("{at}/{i}"), out)),
        Value::Object(map) => map.iter().for_each(|(k, x)| {
            pointers(
                x,
                format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                out,
            )
        }),
        _ => {}
    }
    out.push(at);
}

/// `bytes` with one JSON node (in the document, or in one JSON line) replaced.
fn retyped(bytes: &[u8], node: Index, value: &Value, line: Index) -> Vec<u8> {
    let replace = |doc: &[u8]| -> Option<Vec<u8>> {
        let mut v: Value = serde_json::from_slice(doc).ok()?;
        let mut all = Vec::new();
        pointers(&v, String::new(), &mut all);
        let target = &all[node.index(all.len())];
        match v.pointer_mut(target) {
            Some(slot) => *slot = value.clone(),
            None => v = value.clone(),
        }
        serde_json::to_vec(&v).ok()
    };
    if let Some(doc) = replace(bytes) {
        return doc;
    }
    let mut lines: Vec<Vec<u8>> = bytes.split(|c| *c == b'\n').map(<[u8]>::to_vec).collect();
    let i = line.index(lines.len());
    if let Some(l) = replace(&lines[i]) {
        lines[i] = l;
    }
    lines.join(&b'\n')
}

// ---------------------------------------------------------------------------
// Properties.

#[test]
fn every_target_has_captures_and_they_parse_cleanly() {
    for loaded in corpus() {
        for (file, tool, bytes) in &loaded.files {
            match ((loaded.target.parse)(*tool, bytes), loaded.target.answers) {
                (Ok(()), _) => {}
                (Err(e), Answers::EngineError) if e.kind() != ErrorKind::Parse => {}
                (Err(e), _) => panic!("{} on {file}: {e}", loaded.target.name),
            }
        }
    }
    let files: usize = corpus().iter().map(|l| l.files.len()).sum();
    let distinct: std::collections::BTreeSet<&str> = corpus()
        .iter()
        .flat_map(|l| l.files.iter().map(|(f, _, _)| f.as_str()))
        .collect();
    eprintln!(
        "{} targets, {} captures, {files} (target, capture) pairs",
        corpus().len(),
        distinct.len()
    );
    assert!(
        corpus().len() >= 30 && files >= 200,
        "{} targets, {files} captures",
        corpus().len()
    );
}

#[test]
fn huge_and_deeply_nested_output_parses_or_fails_cleanly() {
    for loaded in corpus() {
        let (file, tool, bytes) = &loaded.files[0];
        // Documents back to back up to ~1 MiB: a JSON-lines reader takes
        // them, a one-document parser refuses them; neither panics.
        let copies = (1 << 20) / bytes.len().max(1) + 1;
        let huge = bytes.repeat(copies);
        check(&loaded.target, file, (loaded.target.parse)(*tool, &huge));
        // Nesting far beyond any real document (serde_json stops at 128).
        let deep = [b"[".repeat(100_000), bytes.clone()].concat();
        check(&loaded.target, file, (loaded.target.parse)(*tool, &deep));
        // One 4 MiB line without a newline.
        let long = [bytes.as_slice(), &b"x".repeat(4 << 20)].concat();
        check(&loaded.target, file, (loaded.target.parse)(*tool, &long));
    }
}

/// Cases per property in the default pass (scripts/test.sh: ~10 s in a
/// debug build); `PROPTEST_CASES` overrides it for long runs.
const DEFAULT_CASES: u32 = 256;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn truncated_output_never_panics(pick in any::<Index>(), cut in any::<Index>()) {
        each_target(pick, |b| b[..cut.index(b.len() + 1)].to_vec());
    }

    #[test]
    fn garbled_output_never_panics(
        pick in any::<Index>(),
        edits in prop::collection::vec((any::<Index>(), any::<u8>()), 1..16),
    ) {
        each_target(pick, |b| {
            let mut b = b.to_vec();
            if !b.is_empty() {
                for (at, byte) in &edits {
                    let i = at.index(b.len());
                    b[i] = *byte;
                }
            }
            b
        });
    }

    #[test]
    fn inserted_garbage_never_panics(
        pick in any::<Index>(),
        at in any::<Index>(),
        junk in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        each_target(pick, |b| {
            let i = at.index(b.len() + 1);
            [&b[..i], &junk, &b[i..]].concat()
        });
    }

    #[test]
    fn inserted_text_never_panics(
        pick in any::<Index>(),
        at in any::<Index>(),
        text in prop_oneof![
            "\\PC{0,16}",
            prop::sample::select(vec!["\"", "{", "}", "[", "]", ",", ":", "null", "\n", "\r\n", "\\u0000",
                "\\ud800", "1e999", "-0", "Z ", "\t", "=", " was=", "é", "€", "😀"]).prop_map(String::from),
        ],
    ) {
        each_target(pick, |b| {
            let i = at.index(b.len() + 1);
            [&b[..i], text.as_bytes(), &b[i..]].concat()
        });
    }

    #[test]
    fn a_field_of_another_type_never_panics(
        pick in any::<Index>(),
        node in any::<Index>(),
        line in any::<Index>(),
        value in prop::sample::select(odd_values()),
    ) {
        each_target(pick, |b| retyped(b, node, &value, line));
    }

    #[test]
    fn arbitrary_bytes_never_panic(pick in any::<Index>(), bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        each_target(pick, |_| bytes.clone());
    }

    #[test]
    fn log_lines_are_the_same_however_the_stream_is_cut(
        pick in any::<Index>(),
        edits in prop::collection::vec((any::<Index>(), any::<u8>()), 0..4),
        cuts in prop::collection::vec(any::<Index>(), 0..12),
        max_line in 1usize..400,
        stamps in prop::sample::select(vec![None, Some(PartStamps::AnyWrite), Some(PartStamps::EveryChunk(16_384)), Some(PartStamps::EveryChunk(7))]),
    ) {
        let logs: Vec<&(String, Tool, Vec<u8>)> = corpus()
            .iter()
            .filter(|l| l.target.name.starts_with("log lines"))
            .flat_map(|l| &l.files)
            .collect();
        let mut bytes = logs[pick.index(logs.len())].2.clone();
        if !bytes.is_empty() {
            for (at, byte) in &edits {
                let i = at.index(bytes.len());
                bytes[i] = *byte;
            }
        }
        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        at.sort_unstable();
        let pieces: Vec<&[u8]> = [0].iter().chain(&at).zip(at.iter().chain([&bytes.len()]))
            .map(|(a, b)| &bytes[*a..*b])
            .collect();
        let whole = log_lines(stamps, max_line, &[&bytes]);
        let cut = log_lines(stamps, max_line, &pieces);
        prop_assert_eq!(&whole, &cut, "depends on how the stream was cut");
        prop_assert!(whole.iter().all(|l| l.bytes.len() <= max_line));
        let kept: usize = whole.iter().map(|l| l.bytes.len() + usize::from(l.complete)).sum();
        prop_assert!(kept <= bytes.len());
        if stamps.is_none() {
            let again: Vec<u8> = whole
                .iter()
                .flat_map(|l| l.bytes.iter().copied().chain(l.complete.then_some(b'\n')))
                .collect();
            prop_assert_eq!(again, bytes, "without timestamps every byte comes back");
        }
    }

    #[test]
    fn shell_quoted_commands_split_back_to_the_same_argv(args in prop::collection::vec("[^\u{0}]{0,12}", 0..6)) {
        let cmd = Cmd::new("docker").args(&args);
        let words = shlex::split(&cmd.to_string()).expect("splits");
        prop_assert_eq!(words, cmd.argv_lossy());
    }

    #[test]
    fn classifying_any_stderr_never_panics(stderr in prop::collection::vec(any::<u8>(), 0..256)) {
        for tool in [Tool::Engine(EngineKind::Docker), Tool::Engine(EngineKind::Podman), Tool::Host] {
            let _ = kind_of(tool, &stderr);
        }
    }
}
