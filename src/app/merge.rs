//! Several `-f` files into one, as compose merges them (spec
//! `13-merge.md`; vendor-docs/compose.md, "Merging several files").
//!
//! Files merge in order, each already interpolated and in the expanded form
//! ([`file`](super::file) reads short syntax into it), so these rules see
//! one shape only:
//!
//! | what | rule |
//! |---|---|
//! | single values (`image`, `restart`, `mem_limit` …), `command`, `entrypoint`, `healthcheck.test` | replaced |
//! | `environment`, `labels`, `sysctls`, `ulimits`, `build.args`, `logging.options`, `depends_on`, `networks` | merged by name |
//! | `volumes` | merged by target path (a later mount at the same target replaces it) |
//! | `devices` | merged by container path |
//! | `ports` | appended; an identical entry is not added twice |
//! | `expose`, `dns`, `tmpfs`, `extra_hosts`, `cap_add`, `cap_drop`, `profiles`, `env_file`, network aliases | appended, without duplicates |
//! | `healthcheck`, `build`, `logging` | merged key by key |
//! | `x-dockhand.interfaces` | replaced |
//! | a key tagged `!reset` | dropped, also what earlier files set |
//! | a key tagged `!override` | replaced instead of merged |
//!
//! Top-level networks and volumes merge by key (labels by name, the rest
//! replaced); `name:` is the last file's.

use std::collections::BTreeMap;

use super::file::{ComposeFile, Service};
use super::yaml::Tag;

/// `overlay` merged into `base`.
///
/// ```
/// use dockhand::app::{file::ComposeFile, merge::merge};
/// let mut base = ComposeFile::default();
/// base.services.insert("web".into(), Default::default());
/// let mut overlay = ComposeFile::default();
/// overlay.name = Some("shop".into());
/// merge(&mut base, overlay);
/// assert_eq!(base.name.as_deref(), Some("shop"));
/// ```
pub fn merge(base: &mut ComposeFile, overlay: ComposeFile) {
    if overlay.name.is_some() {
        base.name = overlay.name;
    }
    for (name, service) in overlay.services {
        match base.services.get_mut(&name) {
            Some(existing) => merge_service(existing, service),
            None => {
                base.services.insert(name, service);
            }
        }
    }
    for (key, net) in overlay.networks {
        match base.networks.get_mut(&key) {
            Some(existing) => merge_labelled(existing, net, |n| &mut n.labels),
            None => {
                base.networks.insert(key, net);
            }
        }
    }
    for (key, vol) in overlay.volumes {
        match base.volumes.get_mut(&key) {
            Some(existing) => merge_labelled(existing, vol, |v| &mut v.labels),
            None => {
                base.volumes.insert(key, vol);
            }
        }
    }
}

/// Apply `tag` of `key` (from the overlay) or else `rule`.
fn field<T: Default>(
    tags: &BTreeMap<&'static str, Tag>,
    key: &str,
    base: &mut T,
    over: T,
    rule: impl FnOnce(&mut T, T),
) {
    match tags.get(key) {
        Some(Tag::Reset) => *base = T::default(),
        Some(Tag::Override) => *base = over,
        None => rule(base, over),
    }
}

fn replace<T>(base: &mut Option<T>, over: Option<T>) {
    if over.is_some() {
        *base = over;
    }
}

fn by_name<K: Ord, V>(base: &mut BTreeMap<K, V>, over: BTreeMap<K, V>) {
    base.extend(over);
}

fn append_unique<T: PartialEq>(base: &mut Vec<T>, over: Vec<T>) {
    for item in over {
        if !base.contains(&item) {
            base.push(item);
        }
    }
}

/// Replace the items of `base` that `same` pairs with an item of `over`,
/// append the others.
fn by_key<T>(base: &mut Vec<T>, over: Vec<T>, same: impl Fn(&T, &T) -> bool) {
    for item in over {
        match base.iter_mut().find(|b| same(b, &item)) {
            Some(existing) => *existing = item,
            None => base.push(item),
        }
    }
}

fn merge_service(base: &mut Service, over: Service) {
    let t = &over.tags;
    field(t, "image", &mut base.image, over.image, replace);
    field(t, "build", &mut base.build, over.build, |b, o| {
        match (b.as_mut(), o) {
            (Some(b), Some(o)) => {
                b.context = o.context;
                replace(&mut b.dockerfile, o.dockerfile);
                replace(&mut b.target, o.target);
                by_name(&mut b.args, o.args);
            }
            (None, o) => *b = o,
            (_, None) => {}
        }
    });
    field(t, "command", &mut base.command, over.command, replace);
    field(
        t,
        "entrypoint",
        &mut base.entrypoint,
        over.entrypoint,
        replace,
    );
    field(
        t,
        "environment",
        &mut base.environment,
        over.environment,
        by_name,
    );
    field(
        t,
        "env_file",
        &mut base.env_file,
        over.env_file,
        append_unique,
    );
    field(t, "ports", &mut base.ports, over.ports, append_unique);
    field(t, "expose", &mut base.expose, over.expose, append_unique);
    field(t, "volumes", &mut base.volumes, over.volumes, |b, o| {
        by_key(b, o, |x, y| x.target == y.target)
    });
    field(t, "networks", &mut base.networks, over.networks, |b, o| {
        for (name, net) in o {
            match b.get_mut(&name) {
                Some(existing) => {
                    append_unique(&mut existing.aliases, net.aliases);
                    replace(&mut existing.ipv4_address, net.ipv4_address);
                }
                None => {
                    b.insert(name, net);
                }
            }
        }
    });
    field(
        t,
        "network_mode",
        &mut base.network_mode,
        over.network_mode,
        replace,
    );
    field(t, "labels", &mut base.labels, over.labels, by_name);
    field(t, "restart", &mut base.restart, over.restart, replace);
    field(t, "cap_add", &mut base.cap_add, over.cap_add, append_unique);
    field(
        t,
        "cap_drop",
        &mut base.cap_drop,
        over.cap_drop,
        append_unique,
    );
    field(t, "devices", &mut base.devices, over.devices, |b, o| {
        by_key(b, o, |x, y| device_target(x) == device_target(y))
    });
    field(
        t,
        "privileged",
        &mut base.privileged,
        over.privileged,
        replace,
    );
    field(t, "hostname", &mut base.hostname, over.hostname, replace);
    field(t, "user", &mut base.user, over.user, replace);
    field(
        t,
        "working_dir",
        &mut base.working_dir,
        over.working_dir,
        replace,
    );
    field(
        t,
        "healthcheck",
        &mut base.healthcheck,
        over.healthcheck,
        |b, o| match (b.as_mut(), o) {
            (Some(b), Some(o)) => {
                replace(&mut b.test, o.test);
                replace(&mut b.interval, o.interval);
                replace(&mut b.timeout, o.timeout);
                replace(&mut b.retries, o.retries);
                replace(&mut b.start_period, o.start_period);
                b.disable |= o.disable;
            }
            (None, o) => *b = o,
            (_, None) => {}
        },
    );
    field(
        t,
        "depends_on",
        &mut base.depends_on,
        over.depends_on,
        by_name,
    );
    // `deploy` writes these two; `!reset` on either key clears both.
    let limits = t.get("deploy").copied();
    for (key, tag) in [
        ("mem_limit", t.get("mem_limit").copied()),
        ("cpus", t.get("cpus").copied()),
    ] {
        let tag = tag.or(limits);
        match key {
            "mem_limit" => apply(tag, &mut base.mem_limit, over.mem_limit),
            _ => apply(tag, &mut base.cpus, over.cpus),
        }
    }
    field(
        t,
        "cpu_shares",
        &mut base.cpu_shares,
        over.cpu_shares,
        replace,
    );
    field(
        t,
        "stop_signal",
        &mut base.stop_signal,
        over.stop_signal,
        replace,
    );
    field(
        t,
        "stop_grace_period",
        &mut base.stop_grace_period,
        over.stop_grace_period,
        replace,
    );
    field(t, "init", &mut base.init, over.init, replace);
    field(t, "read_only", &mut base.read_only, over.read_only, replace);
    field(t, "tmpfs", &mut base.tmpfs, over.tmpfs, append_unique);
    field(
        t,
        "extra_hosts",
        &mut base.extra_hosts,
        over.extra_hosts,
        append_unique,
    );
    field(t, "dns", &mut base.dns, over.dns, append_unique);
    field(t, "sysctls", &mut base.sysctls, over.sysctls, by_name);
    field(t, "ulimits", &mut base.ulimits, over.ulimits, by_name);
    field(
        t,
        "logging",
        &mut base.logging,
        over.logging,
        |b, o| match (b.as_mut(), o) {
            (Some(b), Some(o)) => {
                if o.driver.is_some() && o.driver != b.driver {
                    // Another driver: the old driver's options mean nothing to it.
                    b.options.clear();
                }
                replace(&mut b.driver, o.driver);
                by_name(&mut b.options, o.options);
            }
            (None, o) => *b = o,
            (_, None) => {}
        },
    );
    field(
        t,
        "profiles",
        &mut base.profiles,
        over.profiles,
        append_unique,
    );
    field(
        t,
        "x-dockhand",
        &mut base.interfaces,
        over.interfaces,
        |b, o| {
            if !o.is_empty() {
                *b = o;
            }
        },
    );
    base.at.extend(over.at);
}

fn apply<T>(tag: Option<Tag>, base: &mut Option<T>, over: Option<T>) {
    match tag {
        Some(Tag::Reset) => *base = None,
        _ => replace(base, over),
    }
}

/// The container path of a `devices` entry (`/dev/a:/dev/b:rwm` → `/dev/b`).
fn device_target(device: &str) -> &str {
    let mut parts = device.split(':');
    let host = parts.next().unwrap_or(device);
    parts.next().unwrap_or(host)
}

/// A later top-level network or volume replaces the earlier one, except
/// that labels merge by name.
fn merge_labelled<T>(base: &mut T, over: T, labels: fn(&mut T) -> &mut BTreeMap<String, String>) {
    let mut all = std::mem::take(labels(base));
    let mut merged = over;
    all.extend(std::mem::take(labels(&mut merged)));
    *labels(&mut merged) = all;
    *base = merged;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::file::read;
    use crate::app::yaml::parse;
    use std::sync::Arc;

    fn file(text: &str) -> ComposeFile {
        let name: Arc<str> = Arc::from("f.yaml");
        read(&parse(text, &name).unwrap(), &name).unwrap()
    }

    #[test]
    fn the_override_fixtures_rules() {
        let mut base = file(
            "services:\n  app:\n    image: a\n    command: [x, y]\n    environment: {MODE: base, KEEP: '1'}\n    \
             ports: ['127.0.0.1::8080']\n    volumes: [data:/data, ./conf:/etc/app:ro]\n    dns: [127.0.0.1]\n    \
             labels: {a: base, k: keep}\n    healthcheck: {test: [CMD, t], interval: 2s, retries: 10}\n",
        );
        let over = file(
            "services:\n  app:\n    command: httpd -f\n    environment: [MODE=prod]\n    ports: [{target: 8443}]\n    \
             volumes: [archive:/data]\n    dns: [127.0.0.2, 127.0.0.1]\n    labels: {a: over}\n    healthcheck: {interval: 5s}\n",
        );
        merge(&mut base, over);
        let app = &base.services["app"];
        assert_eq!(app.command.as_deref().unwrap(), ["httpd", "-f"]);
        assert_eq!(app.environment["MODE"].as_deref(), Some("prod"));
        assert_eq!(app.environment["KEEP"].as_deref(), Some("1"));
        assert_eq!(app.ports.len(), 2);
        let mounts: Vec<_> = app
            .volumes
            .iter()
            .map(|m| (m.source.as_deref().unwrap(), m.target.as_str()))
            .collect();
        assert_eq!(mounts, [("archive", "/data"), ("./conf", "/etc/app")]);
        assert_eq!(app.dns, ["127.0.0.1", "127.0.0.2"]);
        assert_eq!(
            (app.labels["a"].as_str(), app.labels["k"].as_str()),
            ("over", "keep")
        );
        let h = app.healthcheck.as_ref().unwrap();
        assert_eq!((h.interval.unwrap().as_secs(), h.retries), (5, Some(10)));
        assert_eq!(h.test.as_deref().unwrap(), ["CMD", "t"]);
        assert_eq!(
            app.at["command"].line, 3,
            "the key's place is the later file's"
        );
    }

    #[test]
    fn reset_and_override_tags() {
        let mut base = file(
            "services:\n  a:\n    image: x\n    ports: ['80']\n    environment: {A: '1', B: '2'}\n",
        );
        merge(
            &mut base,
            file("services:\n  a:\n    ports: !reset []\n    environment: !override {C: '3'}\n"),
        );
        let a = &base.services["a"];
        assert!(a.ports.is_empty());
        assert_eq!(a.environment.keys().collect::<Vec<_>>(), ["C"]);
    }
}
