//! `version`, `info` and `check`.

use clap::Subcommand;
use serde_json::json;

use super::{exit_code, Global, Out};
use dockhand::Error;

/// System subcommands.
#[derive(Subcommand, Debug, Clone)]
#[command(defer = true)]
pub enum Command {
    /// Print dockhand's version (with --json: also the engine's, when it answers).
    #[command(after_help = "Examples:\n  dockhand version\n  dockhand --json version")]
    Version,
    /// Diagnose the engine: which CLI, versions, reachability, and how to fix it.
    #[command(
        after_help = "Examples:\n  dockhand check\n  dockhand --engine 'sudo -n docker' --json check"
    )]
    Check,
    /// What the engine reports about itself and its host (one shape for docker and podman).
    #[command(
        after_help = "Examples:\n  dockhand info\n  dockhand --format '{{.os}} {{.cgroup_version}}' info"
    )]
    Info,
}

/// Run one system subcommand; returns the exit code.
pub fn run(cmd: Command, global: &Global, out: &Out) -> Result<i32, Error> {
    match cmd {
        Command::Version => version(global, out),
        Command::Check => check(global, out),
        Command::Info => info(global, out),
    }
}

/// `dockhand version`: our own version; with --json also the engine's when it answers.
fn version(global: &Global, out: &Out) -> Result<i32, Error> {
    let ours = env!("CARGO_PKG_VERSION");
    if !out.is_json() {
        out.line(format!("dockhand {ours}"));
        return Ok(0);
    }
    let engine = global.engine().and_then(|e| {
        let v = e.system().version()?;
        Ok(json!({"kind": e.kind(), "client": v.client, "server": v.server}))
    });
    let (engine, engine_error) = match engine {
        Ok(v) => (v, None),
        Err(e) => (serde_json::Value::Null, Some(e.message().to_string())),
    };
    out.json(&json!({"dockhand": ours, "engine": engine, "engine_error": engine_error}));
    Ok(0)
}

/// `dockhand info`: the typed engine/host facts.
fn info(global: &Global, out: &Out) -> Result<i32, Error> {
    let i = global.engine()?.system().info()?;
    if out.is_json() {
        out.json(&i);
        return Ok(0);
    }
    out.line(format!(
        "engine:       {} {}",
        i.engine.as_str(),
        i.server_version
    ));
    out.line(format!(
        "host:         {} ({})",
        i.hostname, i.operating_system
    ));
    out.line(format!(
        "kernel:       {} {}",
        i.kernel_version, i.architecture
    ));
    out.line(format!(
        "cpus, memory: {}, {} MiB",
        i.cpus,
        i.memory_bytes >> 20
    ));
    out.line(format!(
        "storage:      {} in {}",
        i.storage_driver, i.root_dir
    ));
    out.line(format!(
        "cgroups:      v{} ({})",
        i.cgroup_version, i.cgroup_driver
    ));
    out.line(format!(
        "rootless:     {}",
        if i.rootless { "yes" } else { "no" }
    ));
    out.line(format!(
        "containers:   {} ({} running, {} paused, {} stopped)",
        i.containers.total, i.containers.running, i.containers.paused, i.containers.stopped
    ));
    out.line(format!("images:       {}", i.images));
    for w in &i.warnings {
        out.line(format!("warning:      {w}"));
    }
    Ok(0)
}

/// `dockhand check`: the diagnosis; the exit code says what is wrong.
fn check(global: &Global, out: &Out) -> Result<i32, Error> {
    let report = global.engine()?.system().check();
    let code = report.error.as_ref().map_or(0, exit_code);
    if out.is_json() {
        out.json(&report);
    } else {
        let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        out.line(format!(
            "engine:     {} ({})",
            report.engine.as_str(),
            or_dash(&report.path)
        ));
        out.line(format!("command:    {}", report.command));
        out.line(format!(
            "endpoint:   {} ({}{})",
            report.endpoint,
            report.endpoint_source,
            if report.remote { ", remote" } else { "" }
        ));
        out.line(format!("client:     {}", or_dash(&report.client_version)));
        out.line(format!("server:     {}", or_dash(&report.server_version)));
        out.line(format!("api:        {}", or_dash(&report.api_version)));
        out.line(format!(
            "reachable:  {}",
            if report.reachable { "yes" } else { "no" }
        ));
        for (k, v) in &report.env {
            out.line(format!("env:        {k}={v}"));
        }
        for w in &report.warnings {
            out.line(format!("warning:    {w}"));
        }
        out.line(format!("diagnosis:  {}", report.diagnosis));
        if let Some(fix) = &report.fix {
            out.line(format!("fix:        {fix}"));
        }
    }
    if let Some(err) = &report.error {
        // The evidence (command, status, stderr) goes to stderr like any error.
        out.error(err);
    }
    Ok(code)
}
