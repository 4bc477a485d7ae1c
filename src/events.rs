//! Engine events (`docker/podman events`) as typed records.
//!
//! Docker prints `{"Type","Action","Actor":{"ID","Attributes"},"time","timeNano",…}`
//! per line; podman prints `{"Type","Status","ID","Name","Image","Time","Attributes",
//! "ContainerExitCode",…}` with other action names (`died`, `remove`,
//! `exec_died`) and an RFC 3339 time (vendor-docs/captures/*/events-*.txt).
//! Both become one [`Event`] with docker's vocabulary; the raw object is kept.
//! The shape is recognised from the JSON itself, so one parser reads both.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::decode::json::{lenient_string, null_default};
use crate::decode::lines::Line;
use crate::decode::time::Timestamp;
use crate::engine::drive::{Blocking, Driver};
use crate::engine::stream::{Decoded, LineChild};
#[cfg(feature = "tokio")]
use crate::engine::AsyncLineStream;
use crate::engine::{Argv, Engine, EngineKind, LineStream};
use crate::error::{Error, Result};
use crate::exec::Pipe;
use crate::input::{EventFilter, TimeSpec};
use crate::system::System;

/// Longest event line accepted (events are a few hundred bytes; labels can
/// make them longer).
const MAX_EVENT_LINE: usize = 1 << 20;

/// What kind of object an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ObjectType {
    /// A container.
    Container,
    /// An image.
    Image,
    /// A network.
    Network,
    /// A volume.
    Volume,
    /// A pod (podman).
    Pod,
    /// The daemon itself (docker).
    Daemon,
    /// A plugin (docker).
    Plugin,
    /// Anything else, as the engine named it.
    Unknown(String),
}

impl ObjectType {
    fn from_engine(word: &str) -> ObjectType {
        match word {
            "container" => ObjectType::Container,
            "image" => ObjectType::Image,
            "network" => ObjectType::Network,
            "volume" => ObjectType::Volume,
            "pod" => ObjectType::Pod,
            "daemon" => ObjectType::Daemon,
            "plugin" => ObjectType::Plugin,
            other => ObjectType::Unknown(other.to_string()),
        }
    }

    /// Lower-case name.
    pub fn as_str(&self) -> &str {
        match self {
            ObjectType::Container => "container",
            ObjectType::Image => "image",
            ObjectType::Network => "network",
            ObjectType::Volume => "volume",
            ObjectType::Pod => "pod",
            ObjectType::Daemon => "daemon",
            ObjectType::Plugin => "plugin",
            ObjectType::Unknown(s) => s,
        }
    }
}

impl Serialize for ObjectType {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What happened, in docker's words (podman's `died` is [`EventAction::Die`],
/// its container/network/volume `remove` is [`EventAction::Destroy`] and image
/// `remove` is [`EventAction::Delete`], `exec` is [`EventAction::ExecStart`],
/// `exec_died` is [`EventAction::ExecDie`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // the variants are the engine's words
#[non_exhaustive]
pub enum EventAction {
    Create,
    Start,
    Restart,
    Stop,
    Kill,
    Die,
    Destroy,
    Pause,
    Unpause,
    Attach,
    Detach,
    Rename,
    Update,
    Oom,
    Init,
    Cleanup,
    Commit,
    ExecCreate,
    ExecStart,
    ExecDie,
    HealthStatus,
    Connect,
    Disconnect,
    Mount,
    Unmount,
    Pull,
    Push,
    Tag,
    Untag,
    Delete,
    Import,
    Load,
    Save,
    Prune,
    /// Anything else, as the engine named it.
    Unknown(String),
}

/// Docker's action words; `EventAction::as_str` and parsing both use this table.
const ACTION_WORDS: &[(&str, EventAction)] = &[
    ("create", EventAction::Create),
    ("start", EventAction::Start),
    ("restart", EventAction::Restart),
    ("stop", EventAction::Stop),
    ("kill", EventAction::Kill),
    ("die", EventAction::Die),
    ("destroy", EventAction::Destroy),
    ("pause", EventAction::Pause),
    ("unpause", EventAction::Unpause),
    ("attach", EventAction::Attach),
    ("detach", EventAction::Detach),
    ("rename", EventAction::Rename),
    ("update", EventAction::Update),
    ("oom", EventAction::Oom),
    ("init", EventAction::Init),
    ("cleanup", EventAction::Cleanup),
    ("commit", EventAction::Commit),
    ("exec_create", EventAction::ExecCreate),
    ("exec_start", EventAction::ExecStart),
    ("exec_die", EventAction::ExecDie),
    ("health_status", EventAction::HealthStatus),
    ("connect", EventAction::Connect),
    ("disconnect", EventAction::Disconnect),
    ("mount", EventAction::Mount),
    ("unmount", EventAction::Unmount),
    ("pull", EventAction::Pull),
    ("push", EventAction::Push),
    ("tag", EventAction::Tag),
    ("untag", EventAction::Untag),
    ("delete", EventAction::Delete),
    ("import", EventAction::Import),
    ("load", EventAction::Load),
    ("save", EventAction::Save),
    ("prune", EventAction::Prune),
];

/// Podman's words that differ from docker's: (podman, object type or `*`, docker).
const PODMAN_WORDS: &[(&str, &str, &str)] = &[
    ("died", "*", "die"),
    ("exec", "*", "exec_start"),
    ("exec_died", "*", "exec_die"),
    ("remove", "image", "delete"),
    ("remove", "*", "destroy"),
];

impl EventAction {
    /// The action for a docker action word.
    fn from_docker(word: &str) -> EventAction {
        ACTION_WORDS
            .iter()
            .find(|(w, _)| *w == word)
            .map(|(_, a)| a.clone())
            .unwrap_or_else(|| EventAction::Unknown(word.to_string()))
    }

    /// The action for a podman status word about an object of type `object`.
    fn from_podman(word: &str, object: &str) -> EventAction {
        let docker = PODMAN_WORDS
            .iter()
            .find(|(p, t, _)| *p == word && (*t == "*" || *t == object))
            .map_or(word, |(_, _, d)| d);
        EventAction::from_docker(docker)
    }

    /// Docker's word for the action.
    pub fn as_str(&self) -> &str {
        match self {
            EventAction::Unknown(s) => s,
            known => ACTION_WORDS
                .iter()
                .find(|(_, a)| a == known)
                .map_or("", |(w, _)| w),
        }
    }
}

impl Serialize for EventAction {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The `event=` filter value an engine understands for docker's word
/// (`die` → podman `died`).
///
/// ```
/// use dockhand::{events::engine_event_name, EngineKind};
/// assert_eq!(engine_event_name(EngineKind::Podman, "die"), "died");
/// assert_eq!(engine_event_name(EngineKind::Docker, "die"), "die");
/// ```
pub fn engine_event_name(kind: EngineKind, docker_word: &str) -> &str {
    if !kind.quirks().podman_event_names {
        return docker_word;
    }
    PODMAN_WORDS
        .iter()
        .find(|(_, _, d)| *d == docker_word)
        .map_or(docker_word, |(p, _, _)| p)
}

/// One engine event, normalized across docker and podman.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Event {
    /// What the event is about.
    #[serde(rename = "type")]
    pub object_type: ObjectType,
    /// What happened.
    pub action: EventAction,
    /// What docker puts after the action word (`healthy` in
    /// `health_status: healthy`, the command in `exec_start: sh -c true`);
    /// podman's `health_status` value. Empty when there is none.
    pub detail: String,
    /// Id of the object (podman image events have none: then empty).
    pub actor_id: String,
    /// Name of the object (container name, image reference, network name).
    pub name: String,
    /// Attributes: labels, and `image`/`name` as docker gives them (podman's
    /// `Image` and `Name` are added under the same keys).
    pub attributes: BTreeMap<String, String>,
    /// Exit code, on `die` events.
    pub exit_code: Option<i64>,
    /// When it happened.
    pub time: Timestamp,
    /// The object as the engine printed it.
    pub raw: Value,
}

/// Docker's shape (the fields read; the rest stays in `raw`).
#[derive(Deserialize)]
struct DockerWire {
    #[serde(rename = "Type", default, deserialize_with = "lenient_string")]
    object_type: String,
    #[serde(rename = "Action", deserialize_with = "lenient_string")]
    action: String,
    #[serde(rename = "Actor", default)]
    actor: DockerActor,
    #[serde(default)]
    time: i64,
    #[serde(rename = "timeNano", default)]
    time_nano: i128,
}

#[derive(Deserialize, Default)]
struct DockerActor {
    #[serde(rename = "ID", default, deserialize_with = "lenient_string")]
    id: String,
    #[serde(rename = "Attributes", default, deserialize_with = "null_default")]
    attributes: BTreeMap<String, String>,
}

/// Podman's shape.
#[derive(Deserialize)]
struct PodmanWire {
    #[serde(rename = "Type", default, deserialize_with = "lenient_string")]
    object_type: String,
    #[serde(rename = "Status", deserialize_with = "lenient_string")]
    status: String,
    #[serde(rename = "ID", default, deserialize_with = "lenient_string")]
    id: String,
    #[serde(rename = "Name", default, deserialize_with = "lenient_string")]
    name: String,
    #[serde(rename = "Image", default, deserialize_with = "lenient_string")]
    image: String,
    #[serde(rename = "Time", deserialize_with = "lenient_string")]
    time: String,
    #[serde(rename = "Attributes", default, deserialize_with = "null_default")]
    attributes: BTreeMap<String, String>,
    #[serde(rename = "ContainerExitCode", default)]
    exit_code: Option<i64>,
    #[serde(rename = "health_status", default)]
    health_status: Option<String>,
}

/// Parse one event line from docker (`--format '{{json .}}'`) or podman
/// (`--format json`).
///
/// ```
/// let line = br#"{"ContainerExitCode":5,"ID":"1a0a","Image":"localhost/busybox:latest","Name":"web","Status":"died","Time":"2026-11-23T17:03:22.9089801Z","Type":"container","Attributes":{"app":"x"}}"#;
/// let e = dockhand::events::parse_event(line).unwrap();
/// assert_eq!(e.action, dockhand::events::EventAction::Die);
/// assert_eq!((e.name.as_str(), e.exit_code), ("web", Some(5)));
/// assert_eq!(e.attributes["image"], "localhost/busybox:latest");
/// // podman leaves an exit code of 0 out.
/// let line = br#"{"ID":"1a0a","Name":"web","Status":"died","Time":"2026-11-23T17:03:22.9089801Z","Type":"container"}"#;
/// assert_eq!(dockhand::events::parse_event(line)?.exit_code, Some(0));
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn parse_event(line: &[u8]) -> Result<Event> {
    let raw: Value = crate::decode::json::parse_json(line)?;
    let bad = |e: serde_json::Error| Error::parse(format!("unexpected event: {e}"), line);
    if raw.get("Action").is_some() {
        let w: DockerWire = serde_json::from_value(raw.clone()).map_err(bad)?;
        let (word, detail) = split_action(&w.action);
        let time = if w.time_nano != 0 {
            Timestamp::from_unix_nanos(w.time_nano)
        } else {
            Timestamp::from_unix(w.time, 0)
        };
        let attributes = w.actor.attributes;
        Ok(Event {
            object_type: ObjectType::from_engine(&w.object_type),
            action: EventAction::from_docker(word),
            detail: detail.to_string(),
            actor_id: w.actor.id,
            name: attributes.get("name").cloned().unwrap_or_default(),
            exit_code: attributes.get("exitCode").and_then(|c| c.parse().ok()),
            attributes,
            time,
            raw,
        })
    } else {
        let w: PodmanWire = serde_json::from_value(raw.clone()).map_err(bad)?;
        let time = Timestamp::parse_rfc3339(&w.time)
            .ok_or_else(|| Error::parse(format!("unexpected event time {:?}", w.time), line))?;
        let mut attributes = w.attributes;
        for (key, value) in [("name", &w.name), ("image", &w.image)] {
            if !value.is_empty() {
                attributes.insert(key.to_string(), value.clone());
            }
        }
        let action = EventAction::from_podman(&w.status, &w.object_type);
        // podman leaves `ContainerExitCode` out when it is 0 (Go's
        // omitempty), so a `died` without one exited 0.
        let exit_code = match action {
            EventAction::Die => w.exit_code.or(Some(0)),
            _ => w.exit_code,
        };
        Ok(Event {
            action,
            object_type: ObjectType::from_engine(&w.object_type),
            detail: w.health_status.unwrap_or_default(),
            actor_id: w.id,
            name: w.name,
            attributes,
            exit_code,
            time,
            raw,
        })
    }
}

/// `exec_start: sh -c true` → (`exec_start`, `sh -c true`).
fn split_action(action: &str) -> (&str, &str) {
    match action.split_once(": ") {
        Some((word, detail)) => (word, detail),
        None => (action, ""),
    }
}

/// Which events to read.
///
/// ```
/// use dockhand::{events::EventOptions, input::TimeSpec};
/// let opts = EventOptions { since: Some(TimeSpec::parse("10m")?), until: Some(TimeSpec::parse("0s")?),
///     filters: vec!["type=container".parse()?] };
/// # Ok::<(), dockhand::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventOptions {
    /// `KEY=VALUE` filters (`event=` values in docker's words; they are
    /// translated for podman).
    pub filters: Vec<EventFilter>,
    /// Events from this time on (default: from now).
    pub since: Option<TimeSpec>,
    /// Stop at this time (default: never — a stream).
    pub until: Option<TimeSpec>,
}

/// The `events` arguments, and the time after which events are dropped by
/// dockhand itself (podman prints nothing for `--until` in the past, so it
/// is asked with `--stream=false` and cut here).
///
/// ```
/// use dockhand::{events::{events_args, EventOptions}, input::TimeSpec, decode::time::Timestamp, EngineKind};
/// let now = Timestamp::from_unix(1_795_453_500, 0);
/// let opts = EventOptions { until: Some(TimeSpec::parse("1795453404")?), ..EventOptions::default() };
/// let (args, cut) = events_args(EngineKind::Podman, &opts, now);
/// assert_eq!(args.words(), ["events", "--format", "json", "--stream=false"]);
/// assert_eq!(cut, Some(Timestamp::from_unix(1_795_453_404, 0)));
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn events_args(
    kind: EngineKind,
    opts: &EventOptions,
    now: Timestamp,
) -> (Argv, Option<Timestamp>) {
    let quirks = kind.quirks();
    let until = opts.until.map(|t| t.resolve(now));
    // podman prints nothing for an `--until` in the past: read what is
    // stored and cut at `until` here.
    let (stored_only, until_arg) = match until {
        Some(end) if quirks.events_past_until_empty && end <= now => (true, None),
        end => (false, end),
    };
    let filters = opts.filters.iter().map(|f| {
        let value = match f.key() {
            "event" => engine_event_name(kind, f.value()),
            _ => f.value(),
        };
        format!("{}={value}", f.key())
    });
    let args = Argv::new("events")
        .args(quirks.json_format)
        .pair("--since", opts.since.map(|t| t.resolve(now).to_rfc3339()))
        .flag_if("--stream=false", stored_only)
        .pair("--until", until_arg.map(|t| t.to_rfc3339()))
        .args(filters.flat_map(|f| ["--filter".to_string(), f]));
    (args, until)
}

/// Blocking iterator over events as the engine prints them (see
/// [`LineStream`]). Without `until` it never ends on its own: drop it (which
/// kills and reaps the engine child) or let SIGINT/SIGTERM end it.
pub type Events = LineStream<Event>;

/// Async twin of [`Events`] (feature `tokio`): a [`Stream`](futures_core::Stream).
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub type AsyncEvents = AsyncLineStream<Event>;

/// Lines of the engine's stdout to events, up to `until`; its stderr only
/// explains a failure.
pub(crate) fn decoded(engine: &Engine, opts: &EventOptions) -> Decoded<Event> {
    let (child, mut to_event) = event_child(engine.kind(), opts);
    Decoded::new(
        engine.kind(),
        &engine.transported(),
        vec![child],
        Box::new(move |_child: usize, _pipe: Pipe, line: Line| to_event(line)),
    )
}

/// The `events` child for `opts`, and what makes events of its lines (for a
/// stream that reads it beside other children: `wait-for`'s watch).
pub(crate) fn event_child(
    kind: EngineKind,
    opts: &EventOptions,
) -> (LineChild, impl FnMut(Line) -> Option<Result<Event>> + Send) {
    let (args, until) = events_args(kind, opts, Timestamp::now());
    let child = LineChild {
        args,
        stamps: None,
        max_line: MAX_EVENT_LINE,
        stderr_lines: false,
        catch_up: None,
    };
    let to_event = move |line: Line| {
        if line.bytes.trim_ascii().is_empty() {
            return None;
        }
        let event = if line.complete || line.bytes.ends_with(b"}") {
            parse_event(&line.bytes)
        } else {
            Err(Error::parse(
                format!("an event line is longer than {MAX_EVENT_LINE} bytes"),
                &line.bytes,
            ))
        };
        match event {
            Ok(e) if until.is_some_and(|end| e.time > end) => None,
            other => Some(other),
        }
    };
    (child, to_event)
}

impl System<'_> {
    /// Events as a blocking iterator (see [`Events`]).
    ///
    /// ```no_run
    /// use dockhand::{events::{EventAction, EventOptions}, Engine};
    /// let engine = Engine::detect()?;
    /// let opts = EventOptions { filters: vec!["type=container".parse()?], ..EventOptions::default() };
    /// for event in engine.system().event_stream(&opts)? {
    ///     let event = event?;
    ///     if event.action == EventAction::Die {
    ///         println!("{} exited with {:?}", event.name, event.exit_code);
    ///     }
    /// }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn event_stream(&self, opts: &EventOptions) -> Result<Events> {
        Blocking.start_lines(decoded(self.engine, opts))
    }

    /// The events between `since` and `until`, collected. `until` is
    /// required: without it the engine never stops.
    ///
    /// ```no_run
    /// use dockhand::{events::EventOptions, input::TimeSpec, Engine};
    /// let engine = Engine::detect()?;
    /// let opts = EventOptions { since: Some(TimeSpec::parse("5m")?), until: Some(TimeSpec::parse("0s")?),
    ///     ..EventOptions::default() };
    /// let events = engine.system().events(&opts)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn events(&self, opts: &EventOptions) -> Result<Vec<Event>> {
        if opts.until.is_none() {
            return Err(Error::invalid_input(
                "events without an end time never finish: give `until`, or use event_stream",
            ));
        }
        self.event_stream(opts)?.collect()
    }

    /// Async twin of [`System::event_stream`] (feature `tokio`).
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> dockhand::Result<()> {
    /// let engine = dockhand::Engine::detect()?;
    /// let mut events = engine.system().event_stream_async(&Default::default())?;
    /// while let Some(event) = events.next().await {
    ///     println!("{:?}", event?.action);
    /// }
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub fn event_stream_async(&self, opts: &EventOptions) -> Result<AsyncEvents> {
        crate::engine::drive::Tokio.start_lines(decoded(self.engine, opts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorKind, ExitStatus};
    use crate::exec::Delivery;

    fn capture(path: &str) -> Vec<Event> {
        crate::testing::capture(path)
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| parse_event(l).unwrap_or_else(|e| panic!("{path}: {e}")))
            .collect()
    }

    fn actions(events: &[Event]) -> Vec<&str> {
        events
            .iter()
            .filter(|e| e.object_type == ObjectType::Container)
            .map(|e| e.action.as_str())
            .collect()
    }

    #[test]
    fn every_captured_event_parses() {
        for path in [
            "docker/events-lifecycle.txt",
            "docker/events-lifecycle-json-shortcut.txt",
            "docker/events-lifecycle-filtered.txt",
            "docker/events-lifecycle-rfc3339.txt",
            "docker/events-actions.txt",
            "podman/events-lifecycle.txt",
            "podman/events-lifecycle-filtered.txt",
            "podman/events-lifecycle-gotemplate.txt",
            "podman/events-no-until-stream-false.txt",
            "podman/events-actions.txt",
        ] {
            assert!(!capture(path).is_empty(), "{path}");
        }
    }

    #[test]
    fn one_lifecycle_reads_the_same_from_both_engines() {
        let docker = capture("docker/events-lifecycle-filtered.txt");
        let podman = capture("podman/events-lifecycle-filtered.txt");
        assert_eq!(
            actions(&docker),
            ["create", "attach", "start", "die", "destroy"]
        );
        assert_eq!(
            actions(&podman),
            ["create", "init", "start", "attach", "die", "cleanup", "destroy"]
        );
        for events in [&docker, &podman] {
            let die = events
                .iter()
                .find(|e| e.action == EventAction::Die)
                .unwrap();
            assert_eq!(die.exit_code, Some(5));
            assert_eq!(die.name, "vd-ev");
            assert_eq!(die.attributes["name"], "vd-ev");
            assert_eq!(die.attributes["dockhand.test"], "vendor-docs");
            assert_eq!(die.actor_id.len(), 64);
        }
        assert_eq!(docker[0].time.to_string(), "2026-11-23T17:03:22.396750831Z");
        assert_eq!(podman[0].time.to_string(), "2026-11-23T17:03:22.762115548Z");
    }

    #[test]
    fn exec_and_health_events_normalize_with_their_detail() {
        let docker = capture("docker/events-actions.txt");
        let podman = capture("podman/events-actions.txt");
        for events in [&docker, &podman] {
            let acts = actions(events);
            for expected in [
                "exec_start",
                "exec_die",
                "health_status",
                "pause",
                "unpause",
                "kill",
            ] {
                assert!(acts.contains(&expected), "{expected} missing from {acts:?}");
            }
            let health = events
                .iter()
                .find(|e| e.action == EventAction::HealthStatus)
                .unwrap();
            assert!(
                ["healthy", "starting", "unhealthy"].contains(&health.detail.as_str()),
                "{health:?}"
            );
        }
        let exec = docker
            .iter()
            .find(|e| e.action == EventAction::ExecStart)
            .unwrap();
        assert_eq!(exec.detail, "/bin/sh -c true");
    }

    #[test]
    fn podman_image_and_network_events_and_unknown_words() {
        let events = capture("podman/events-lifecycle.txt");
        let pull = events
            .iter()
            .find(|e| e.object_type == ObjectType::Image)
            .unwrap();
        assert_eq!(pull.action, EventAction::Pull);
        assert_eq!(pull.actor_id, "");
        assert_eq!(
            EventAction::from_podman("remove", "image"),
            EventAction::Delete
        );
        assert_eq!(
            EventAction::from_docker("frobnicate"),
            EventAction::Unknown("frobnicate".into())
        );
        let docker = capture("docker/events-lifecycle-rfc3339.txt");
        let net = docker
            .iter()
            .find(|e| e.object_type == ObjectType::Network)
            .unwrap();
        assert_eq!(
            (net.action.as_str(), net.name.as_str()),
            ("create", "vd-evnet")
        );
    }

    #[test]
    fn serialized_event_is_snake_case_with_docker_words() {
        let e = &capture("podman/events-lifecycle-filtered.txt")[4];
        let v = serde_json::to_value(e).unwrap();
        assert_eq!(v["type"], "container");
        assert_eq!(v["action"], "die");
        assert_eq!(v["exit_code"], 5);
        assert_eq!(v["time"], "2026-11-23T17:03:22.908980100Z");
        assert_eq!(v["raw"]["Status"], "died");
    }

    #[test]
    fn args_translate_filters_and_handle_podman_past_until() {
        let now = Timestamp::from_unix(2000, 0);
        let opts = EventOptions {
            filters: vec![
                "event=die".parse().unwrap(),
                "container=web".parse().unwrap(),
            ],
            since: Some(TimeSpec::parse("1000").unwrap()),
            until: Some(TimeSpec::parse("3000").unwrap()),
        };
        let (docker, cut) = events_args(EngineKind::Docker, &opts, now);
        assert_eq!(
            docker.words(),
            [
                "events",
                "--format",
                "{{json .}}",
                "--since",
                "1970-01-01T00:16:40.000000000Z",
                "--until",
                "1970-01-01T00:50:00.000000000Z",
                "--filter",
                "event=die",
                "--filter",
                "container=web"
            ]
        );
        assert_eq!(cut, Some(Timestamp::from_unix(3000, 0)));
        // Future end: podman honours --until itself.
        let podman = events_args(EngineKind::Podman, &opts, now).0.words();
        assert!(
            podman.contains(&"--until".to_string()) && podman.contains(&"event=died".to_string())
        );
        // Past end: podman would print nothing.
        let past = EventOptions {
            until: Some(TimeSpec::parse("0s").unwrap()),
            ..opts
        };
        let (podman, cut) = events_args(EngineKind::Podman, &past, now);
        let podman = podman.words();
        assert!(
            podman.contains(&"--stream=false".to_string())
                && !podman.contains(&"--until".to_string())
        );
        assert_eq!(cut, Some(now));
    }

    #[test]
    fn events_after_the_end_are_dropped_and_failures_classified() {
        let engine = Engine::from_command("podman").unwrap();
        let mut d = decoded(
            &engine,
            &EventOptions {
                until: Some(TimeSpec::parse("2026-11-23T17:03:22.9Z").unwrap()),
                ..EventOptions::default()
            },
        );
        let bytes = crate::testing::capture("podman/events-lifecycle-filtered.txt");
        d.absorb(Delivery::Output {
            child: 0,
            pipe: Pipe::Stdout,
            bytes,
        });
        d.absorb(Delivery::Output {
            child: 0,
            pipe: Pipe::Stderr,
            bytes: b"Error: no such container\n".to_vec(),
        });
        d.absorb(Delivery::Exited {
            child: 0,
            status: ExitStatus::Code(125),
        });
        let items: Vec<_> = d.ready.drain(..).collect();
        assert_eq!(items.len(), 5, "4 events up to the end, then the error");
        assert_eq!(items[3].as_ref().unwrap().action, EventAction::Attach);
        assert_eq!(items[4].as_ref().unwrap_err().kind(), ErrorKind::NotFound);
    }
}
