//! `--hosts a,b,c` / `--fleet FILE`: any subcommand on many hosts at once.
//!
//! The command is parsed once and run per host by the same code that runs
//! it on one engine (`dispatch`), with that host's engine and an output
//! that is captured: text comes out prefixed by the host's name as each
//! host finishes, `--json` gathers one `{host, ok, result | error}` per host
//! (in fleet order) into one array. `--format` formats each host's result:
//! a field missing there fails that host (exit 2 in the tally), not the
//! fleet. The exit code is 0 when every host
//! succeeded, else that of the most severe failure
//! ([`dockhand::fleet::severity`]); a summary line goes to stderr. Commands
//! that need this terminal or write one local file are refused (exit 2).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use dockhand::engine::Mode;
use dockhand::fleet::{Fleet, FleetOptions, HostOutcome};
use dockhand::{Error, ErrorKind};
use serde_json::{json, Value};

use super::output::{error_json, Captured};
use super::{dispatch, exit_code, Command, Global, Out};

thread_local! {
    /// The host this thread works for, during a fleet run.
    static HOST: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The host the calling thread works for (`None`: not in a fleet run), so
/// log lines (retries, `--verbose`) say which host they are about.
pub fn current_host() -> Option<String> {
    HOST.with(|h| h.borrow().clone())
}

/// What one host's run left.
struct HostRun {
    code: i32,
    captured: Captured,
}

/// Why `command` cannot run on a fleet (`None`: it can).
fn refusal(command: &Command, global: &Global) -> Option<&'static str> {
    match command {
        Command::Container(c) => c.fleet_refusal(),
        Command::Logs(c) => c.fleet_refusal(),
        Command::Netns(_) => Some("`netns` acts on this machine's namespaces: run it on each host"),
        Command::Link(_) => Some("`link` acts on this machine's interfaces: run it on each host"),
        Command::DaemonConfig(_) => {
            Some("`daemon-config` edits this machine's daemon.json: run it on each host")
        }
        Command::Image(c) => c.fleet_refusal(),
        Command::Build(c) => c.fleet_refusal(),
        Command::Registry(c) => c.fleet_refusal(),
        Command::Activity(c) => c.fleet_refusal(),
        Command::Disk(c) => c.fleet_refusal(global.dry_run),
        Command::App(c) => c.fleet_refusal(),
        _ => None,
    }
}

/// The fleet `global` names, its engines set up for a fleet run.
fn fleet_of(global: &Global) -> Result<Fleet, Error> {
    let base = Global {
        hosts: None,
        fleet: None,
        ..global.clone()
    }
    .engine()?;
    let fleet = match (&global.hosts, &global.fleet) {
        (Some(list), _) => Fleet::from_hosts(&base, list)?,
        (None, Some(file)) if file.as_os_str() == "-" => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| {
                Error::invalid_input(format!("cannot read the fleet file from stdin: {e}"))
            })?;
            dockhand::fleet::file::parse(&base, &text, "-")?
        }
        (None, Some(file)) => Fleet::from_file(&base, file)?,
        (None, None) => unreachable!("fleet::run without --hosts or --fleet"),
    };
    let mut fleet = fleet.select(&global.select)?.with_options(FleetOptions {
        parallel: global.parallel.unwrap_or(dockhand::fleet::DEFAULT_PARALLEL),
        rolling: global.rolling,
        max_failures: global.max_failures,
    });
    if global.dry_run {
        for m in fleet.members_mut() {
            let host = m.name.clone();
            m.engine = m
                .engine
                .clone()
                .with_mode(Mode::DryRun(Arc::new(move |cmd| {
                    let _ = writeln!(std::io::stderr(), "{host}: dry-run: {cmd}");
                })));
        }
    }
    Ok(fleet)
}

/// Run `command` on every selected host; returns the exit code.
pub fn run(command: Command, global: &Global, out: &Out) -> Result<i32, Error> {
    if let Some(why) = refusal(&command, global) {
        return Err(Error::invalid_input(format!("not on a fleet: {why}")));
    }
    let fleet = fleet_of(global)?;
    let runs: Mutex<BTreeMap<String, HostRun>> = Mutex::default();
    let print = Mutex::new(());
    let report = fleet.each(|member| {
        HOST.with(|h| *h.borrow_mut() = Some(member.name.clone()));
        let capture = Arc::new(Mutex::new(Captured::default()));
        let host_out = out.captured(Arc::clone(&capture), global.verbose == 0);
        let host_global = Global {
            fleet_engine: Some(member.engine.clone()),
            ..global.clone()
        };
        // A `--format` path this host's result lacks fails this host alone.
        let result = dispatch(command.clone(), &host_global, &host_out)
            .and_then(|code| host_out.take_format_error().map_or(Ok(code), Err));
        let mut captured =
            std::mem::take(&mut *capture.lock().unwrap_or_else(PoisonError::into_inner));
        let code = match &result {
            Ok(code) => *code,
            Err(e) => {
                host_out.error(e);
                captured =
                    std::mem::take(&mut *capture.lock().unwrap_or_else(PoisonError::into_inner));
                exit_code(e)
            }
        };
        if !global.json {
            let _held = print.lock().unwrap_or_else(PoisonError::into_inner);
            print_prefixed(&member.name, &captured);
        }
        let failure = (code != 0).then(|| host_error(code, &captured));
        runs.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(member.name.clone(), HostRun { code, captured });
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    });
    let runs = runs.into_inner().unwrap_or_else(PoisonError::into_inner);
    if global.json {
        let hosts: Vec<Value> = report
            .hosts
            .iter()
            .map(|h| host_json(&h.host, &h.outcome, runs.get(&h.host)))
            .collect();
        // `--format` went into each host's result, not over this array.
        Out::new(true, None).json(&hosts);
    }
    let code = match report.worst() {
        None => 0,
        Some(worst) => report
            .hosts
            .iter()
            .find(|h| h.error().is_some_and(|e| std::ptr::eq(e, worst)))
            .and_then(|h| runs.get(&h.host))
            .map_or_else(|| exit_code(worst), |r| r.code),
    };
    summary(global.json, &report, code);
    Ok(code)
}

/// Why a host failed: the error it reported last, else its exit code.
fn host_error(code: i32, captured: &Captured) -> Error {
    captured.errors.last().cloned().unwrap_or_else(|| {
        let kind = match code {
            2 => ErrorKind::InvalidInput,
            3 => ErrorKind::NotFound,
            4 => ErrorKind::Unreachable,
            5 => ErrorKind::Conflict,
            124 => ErrorKind::Timeout,
            _ => ErrorKind::EngineFailure,
        };
        Error::new(kind, format!("exited with code {code}"))
    })
}

/// Each line of a host's stdout and stderr, after `NAME: `.
fn print_prefixed(host: &str, captured: &Captured) {
    let mut stdout = std::io::stdout().lock();
    for line in String::from_utf8_lossy(&captured.stdout).lines() {
        let _ = writeln!(stdout, "{host}: {line}");
    }
    let _ = stdout.flush();
    let mut stderr = std::io::stderr().lock();
    for line in String::from_utf8_lossy(&captured.stderr).lines() {
        let _ = writeln!(stderr, "{host}: {line}");
    }
}

/// `{host, ok, result?, error?, skipped?}`.
fn host_json(host: &str, outcome: &HostOutcome<()>, run: Option<&HostRun>) -> Value {
    let mut doc = json!({ "host": host, "ok": matches!(outcome, HostOutcome::Ran(Ok(()))) });
    if let HostOutcome::Skipped = outcome {
        doc["skipped"] = json!(true);
        return doc;
    }
    if let Some(run) = run {
        let docs: Vec<Value> = String::from_utf8_lossy(&run.captured.stdout)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|_| Value::String(l.to_string())))
            .collect();
        match docs.len() {
            0 => {}
            1 => doc["result"] = docs.into_iter().next().unwrap_or_default(),
            _ => doc["result"] = Value::Array(docs),
        }
        if run.code != 0 {
            doc["exit_code"] = json!(run.code);
        }
    }
    if let HostOutcome::Ran(Err(e)) = outcome {
        doc["error"] = error_json(e);
    }
    doc
}

/// `fleet: 3 hosts: 1 ok, 2 failed (h2: unreachable, h3: not_found), 0 skipped; exit 4`.
fn summary(json: bool, report: &dockhand::fleet::FleetReport<()>, code: i32) {
    let t = report.tally();
    let mut stderr = std::io::stderr().lock();
    if json {
        let _ = writeln!(
            stderr,
            "{}",
            json!({"fleet": {"hosts": t.hosts, "ok": t.ok, "failed": t.failed, "skipped": t.skipped, "exit_code": code}})
        );
        return;
    }
    let failed: Vec<String> = report
        .hosts
        .iter()
        .filter_map(|h| h.error().map(|e| format!("{}: {}", h.host, e.kind())))
        .collect();
    let detail = match failed.is_empty() {
        true => String::new(),
        false => format!(" ({})", failed.join(", ")),
    };
    let _ = writeln!(
        stderr,
        "fleet: {} hosts: {} ok, {} failed{detail}, {} skipped; exit {code}",
        t.hosts, t.ok, t.failed, t.skipped
    );
}
