//! A Dockerfile generator for "light" images (Paradrop's): a base image, a
//! command, a few packages, files, environment and a non-root user.
//!
//! Prior generators pasted the command into `CMD` unescaped and package
//! names into `RUN apt-get install`. Here every value is validated or
//! escaped for the exact place it lands in:
//!
//! * `CMD` is the JSON exec form (no shell), each argument a JSON string, so
//!   `"`, `\`, `$(…)`, backticks reach the process verbatim. Dockerfile
//!   variable expansion does not apply to `CMD`.
//! * `ENV` values are double-quoted with `\`, `"` and `$` escaped (ENV *is*
//!   expanded by the Dockerfile parser; `\$` keeps a literal `$`).
//! * `COPY` uses the JSON form; `$` is refused there because COPY arguments
//!   are expanded even in JSON form and JSON has no escape for it.
//! * Package names must match a strict pattern, because they end up in a
//!   shell command line (`RUN … install NAME…`).
//! * Control characters (newlines above all, which would start a new
//!   instruction) are refused everywhere.

use std::fmt::Write as _;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::input::{check_plain, ImageRef};

/// The command, in exec form.
///
/// ```
/// use dockhand::image::dockerfile::ExecForm;
/// let cmd = ExecForm::parse(r#"printf '%s\n' "a \"b\"" '$(id)'"#).unwrap();
/// assert_eq!(cmd.args(), ["printf", "%s\\n", "a \"b\"", "$(id)"]);
/// assert_eq!(cmd.to_json(), r#"["printf","%s\\n","a \"b\"","$(id)"]"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ExecForm(Vec<String>);

impl ExecForm {
    /// Split a command line the way a POSIX shell splits words (quotes and
    /// backslashes; no expansion, no operators): `sh -c 'a | b'` is three
    /// words.
    pub fn parse(text: &str) -> Result<ExecForm> {
        let words = shlex::split(text).ok_or_else(|| {
            Error::invalid_input(format!(
                "cannot split the command {text:?}: a quote is not closed or it ends in a lone backslash"
            ))
        })?;
        ExecForm::from_args(words)
    }

    /// Take an argv as is.
    pub fn from_args<I, S>(args: I) -> Result<ExecForm>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let args: Vec<String> = args.into_iter().map(Into::into).collect();
        if args.is_empty() || args[0].is_empty() {
            return Err(Error::invalid_input("the command is empty"));
        }
        if let Some(a) = args.iter().find(|a| a.contains('\0')) {
            return Err(Error::invalid_input(format!(
                "command argument {a:?} contains a NUL byte, which no process argument can hold"
            )));
        }
        Ok(ExecForm(args))
    }

    /// The arguments.
    pub fn args(&self) -> &[String] {
        &self.0
    }

    /// The JSON array for `CMD`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).expect("a list of strings always serializes")
    }
}

/// A package to install: `[a-z0-9][a-z0-9+._-]*`, optionally `=VERSION`
/// with `[A-Za-z0-9.+~:_-]` (Debian, Alpine, Fedora and OpenWrt names fit).
///
/// ```
/// use dockhand::image::dockerfile::PackageName;
/// assert!(PackageName::new("libstdc++6").is_ok());
/// assert!(PackageName::new("curl=7.88.1-10+deb12u5").is_ok());
/// assert!(PackageName::new("curl;reboot").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PackageName(String);

impl PackageName {
    /// Validate one package name.
    pub fn new(text: &str) -> Result<PackageName> {
        let (name, version) = match text.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (text, None),
        };
        let name_ok = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+._-".contains(c))
            && name.len() <= 128;
        if !name_ok {
            let why = match name
                .chars()
                .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || "+._-".contains(*c)))
            {
                Some(c) => format!("{c:?} is not allowed"),
                None if name.is_empty() => "the name is empty".to_string(),
                None if name.len() > 128 => "it is longer than 128 characters".to_string(),
                None => "it must start with a lower-case letter or digit".to_string(),
            };
            return Err(Error::invalid_input(format!(
                "invalid package name {text:?}: {why}; names are lower-case letters, digits and + . _ - (optionally =VERSION)"
            )));
        }
        if let Some(v) = version {
            let ok = !v.is_empty()
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".+~:_-".contains(c));
            if !ok {
                return Err(Error::invalid_input(format!(
                    "invalid package version in {text:?}: versions are letters, digits and . + ~ : _ -"
                )));
            }
        }
        Ok(PackageName(text.to_string()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which package manager installs [`PackageName`]s in the base image.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageManager {
    /// Debian/Ubuntu `apt-get`.
    #[default]
    Apt,
    /// Alpine `apk`.
    Apk,
    /// Fedora/RHEL `dnf`.
    Dnf,
    /// OpenWrt `opkg`.
    Opkg,
}

impl PackageManager {
    /// Parse `apt`, `apk`, `dnf` or `opkg`.
    pub fn new(text: &str) -> Result<PackageManager> {
        match text {
            "apt" => Ok(PackageManager::Apt),
            "apk" => Ok(PackageManager::Apk),
            "dnf" => Ok(PackageManager::Dnf),
            "opkg" => Ok(PackageManager::Opkg),
            _ => Err(Error::invalid_input(format!(
                "unknown package manager {text:?}: use apt, apk, dnf or opkg"
            ))),
        }
    }

    /// The `RUN` line installing `packages` (already validated).
    fn install(self, packages: &[PackageName]) -> String {
        let names: Vec<&str> = packages.iter().map(PackageName::as_str).collect();
        let names = names.join(" ");
        match self {
            PackageManager::Apt => format!(
                "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends {names} && rm -rf /var/lib/apt/lists/*"
            ),
            PackageManager::Apk => format!("RUN apk add --no-cache {names}"),
            PackageManager::Dnf => format!("RUN dnf install -y {names} && dnf clean all"),
            PackageManager::Opkg => format!("RUN mkdir -p /var/lock && opkg update && opkg install {names}"),
        }
    }
}

/// The user the command runs as: a name (`nobody`, `app_1`) or a numeric
/// uid, each optionally with `:group`.
///
/// ```
/// use dockhand::image::dockerfile::User;
/// assert!(User::new("nobody").is_ok());
/// assert!(User::new("1000:1000").is_ok());
/// assert!(User::new("root; rm").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct User(String);

impl User {
    /// Validate a user (and optional group).
    pub fn new(text: &str) -> Result<User> {
        let part_ok = |p: &str| {
            let numeric = !p.is_empty() && p.chars().all(|c| c.is_ascii_digit());
            let named = p
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-".contains(c))
                && p.len() <= 32;
            numeric || named
        };
        let valid = match text.split_once(':') {
            Some((u, g)) => part_ok(u) && part_ok(g),
            None => part_ok(text),
        };
        if !valid {
            return Err(Error::invalid_input(format!(
                "invalid user {text:?}: use a name ([a-z_][a-z0-9_-]*) or a number, optionally :GROUP"
            )));
        }
        Ok(User(text.to_string()))
    }
}

/// An environment variable: `KEY=VALUE`, the key `[A-Za-z_][A-Za-z0-9_]*`,
/// the value any text without control characters.
///
/// ```
/// use dockhand::image::dockerfile::EnvInstruction;
/// let e = EnvInstruction::new(r#"GREETING=say "hi" to $USER"#).unwrap();
/// assert_eq!(e.to_instruction(), r#"ENV GREETING="say \"hi\" to \$USER""#);
/// assert!(EnvInstruction::new("1X=a").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvInstruction {
    key: String,
    value: String,
}

impl EnvInstruction {
    /// Validate `KEY=VALUE`.
    pub fn new(text: &str) -> Result<EnvInstruction> {
        let (key, value) = text.split_once('=').ok_or_else(|| {
            Error::invalid_input(format!("environment variable {text:?} must be KEY=VALUE"))
        })?;
        let key_ok = key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !key_ok {
            return Err(Error::invalid_input(format!(
                "invalid environment variable name {key:?}: use [A-Za-z_][A-Za-z0-9_]*"
            )));
        }
        if let Some(c) = value.chars().find(|c| c.is_control()) {
            return Err(Error::invalid_input(format!(
                "the value of {key} contains the control character {c:?}; a Dockerfile line cannot hold it"
            )));
        }
        Ok(EnvInstruction {
            key: key.to_string(),
            value: value.to_string(),
        })
    }

    /// The `ENV` instruction, value double-quoted with `\ " $` escaped.
    pub fn to_instruction(&self) -> String {
        let mut quoted = String::with_capacity(self.value.len() + 2);
        for c in self.value.chars() {
            if matches!(c, '\\' | '"' | '$') {
                quoted.push('\\');
            }
            quoted.push(c);
        }
        format!("ENV {}=\"{quoted}\"", self.key)
    }
}

/// A file or directory copied from the build context into the image.
///
/// ```
/// use dockhand::image::dockerfile::CopyInstruction;
/// let c = CopyInstruction::new("app/run.sh", "/usr/local/bin/run.sh").unwrap();
/// assert_eq!(c.to_instruction(), r#"COPY ["app/run.sh","/usr/local/bin/run.sh"]"#);
/// assert!(CopyInstruction::new("../etc/passwd", "/x").is_err());
/// assert!(CopyInstruction::new("$HOME", "/x").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyInstruction {
    source: String,
    destination: String,
}

impl CopyInstruction {
    /// Validate a source (inside the build context) and a destination.
    pub fn new(source: &str, destination: &str) -> Result<CopyInstruction> {
        for (what, path) in [("copy source", source), ("copy destination", destination)] {
            check_plain(what, path)?;
            if path.contains('$') {
                return Err(Error::invalid_input(format!(
                    "{what} {path:?} contains '$': COPY paths are expanded by the Dockerfile parser, so '$' cannot be passed through"
                )));
            }
        }
        if source.starts_with('/') || source.split('/').any(|p| p == "..") {
            return Err(Error::invalid_input(format!(
                "copy source {source:?} must be a relative path inside the build context (no leading '/', no '..')"
            )));
        }
        Ok(CopyInstruction {
            source: source.to_string(),
            destination: destination.to_string(),
        })
    }

    /// The `COPY` instruction in JSON form.
    pub fn to_instruction(&self) -> String {
        let pair = [&self.source, &self.destination];
        format!(
            "COPY {}",
            serde_json::to_string(&pair).expect("strings serialize")
        )
    }
}

/// Everything the generated Dockerfile says.
///
/// ```
/// use dockhand::image::dockerfile::{DockerfileSpec, EnvInstruction, ExecForm, PackageName, User};
/// use dockhand::input::ImageRef;
/// let mut spec = DockerfileSpec::new(ImageRef::new("debian:12").unwrap(), ExecForm::parse("/app/run --port 80").unwrap());
/// spec.packages.push(PackageName::new("curl").unwrap());
/// spec.user = Some(User::new("nobody").unwrap());
/// spec.env.push(EnvInstruction::new("MODE=prod").unwrap());
/// assert_eq!(spec.render(), "FROM debian:12\n\
///     ENV MODE=\"prod\"\n\
///     RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n\
///     USER nobody\n\
///     CMD [\"/app/run\",\"--port\",\"80\"]\n");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DockerfileSpec {
    /// Base image.
    pub from: ImageRef,
    /// The command.
    pub cmd: ExecForm,
    /// Packages to install.
    pub packages: Vec<PackageName>,
    /// How to install them.
    pub package_manager: PackageManager,
    /// Run as this user (default: the base image's).
    pub user: Option<User>,
    /// Environment variables (set before packages are installed, so they
    /// apply to the install too, e.g. proxies).
    pub env: Vec<EnvInstruction>,
    /// Files copied from the build context.
    pub copies: Vec<CopyInstruction>,
}

impl DockerfileSpec {
    /// A spec with a base image and a command, nothing else.
    pub fn new(from: ImageRef, cmd: ExecForm) -> DockerfileSpec {
        DockerfileSpec {
            from,
            cmd,
            packages: Vec::new(),
            package_manager: PackageManager::Apt,
            user: None,
            env: Vec::new(),
            copies: Vec::new(),
        }
    }

    /// The Dockerfile text: FROM, ENV, RUN (packages, as root), COPY, USER, CMD.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = writeln!(out, "FROM {}", self.from);
        for e in &self.env {
            let _ = writeln!(out, "{}", e.to_instruction());
        }
        if !self.packages.is_empty() {
            let _ = writeln!(out, "{}", self.package_manager.install(&self.packages));
        }
        for c in &self.copies {
            let _ = writeln!(out, "{}", c.to_instruction());
        }
        if let Some(u) = &self.user {
            let _ = writeln!(out, "USER {}", u.0);
        }
        let _ = writeln!(out, "CMD {}", self.cmd.to_json());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_arguments_stay_single_json_strings() {
        let nasty = "a\"b $(id) `id` \\ ${HOME} ;|&\u{e9}";
        let cmd = ExecForm::from_args(["printf", "%s", nasty]).unwrap();
        let json = cmd.to_json();
        let back: Vec<String> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ["printf", "%s", nasty]);
        assert!(!json.contains('\n'));
        let newline = ExecForm::from_args(["echo", "a\nb"]).unwrap().to_json();
        assert!(
            !newline.contains('\n'),
            "a newline must not end the CMD line: {newline}"
        );
    }

    #[test]
    fn command_text_splits_like_a_shell_without_expanding() {
        let cmd = ExecForm::parse("sh -c 'echo $HOME | tr a b' \"x y\"").unwrap();
        assert_eq!(cmd.args(), ["sh", "-c", "echo $HOME | tr a b", "x y"]);
        for bad in ["", "   ", "'unclosed", "a\\"] {
            assert!(ExecForm::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn env_values_escape_exactly_what_the_parser_expands() {
        let e = EnvInstruction::new("V=a\\b\"c$d`e").unwrap();
        assert_eq!(e.to_instruction(), "ENV V=\"a\\\\b\\\"c\\$d`e\"");
        assert!(EnvInstruction::new("V=a\nb").is_err());
        assert!(EnvInstruction::new("NOEQUALS").is_err());
        assert!(EnvInstruction::new("A-B=1").is_err());
        assert_eq!(
            EnvInstruction::new("EMPTY=").unwrap().to_instruction(),
            "ENV EMPTY=\"\""
        );
    }

    #[test]
    fn package_names_refuse_shell_text_with_precise_reasons() {
        for bad in [
            "curl;reboot",
            "a b",
            "$(id)",
            "-y",
            "Curl",
            "",
            "a=",
            "a=1;2",
            "a&&b",
        ] {
            let e = PackageName::new(bad).unwrap_err();
            assert!(e.message().contains("package"), "{bad:?}: {e}");
        }
        assert!(PackageName::new("curl;x")
            .unwrap_err()
            .message()
            .contains("';' is not allowed"));
        for ok in ["busybox", "python3.11", "g++", "lib_x-1", "pkg=1:2.3~rc1-4"] {
            assert!(PackageName::new(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn every_package_manager_gets_its_own_line() {
        let pkgs = vec![
            PackageName::new("curl").unwrap(),
            PackageName::new("jq").unwrap(),
        ];
        assert_eq!(
            PackageManager::Apk.install(&pkgs),
            "RUN apk add --no-cache curl jq"
        );
        assert!(PackageManager::Dnf
            .install(&pkgs)
            .starts_with("RUN dnf install -y curl jq"));
        assert!(PackageManager::Opkg
            .install(&pkgs)
            .contains("opkg install curl jq"));
        assert!(PackageManager::new("yum").is_err());
    }

    #[test]
    fn users_and_copies_are_checked() {
        for bad in ["", "Root", "a b", "1:", ":1", "a;b", "$(id)"] {
            assert!(User::new(bad).is_err(), "{bad:?}");
        }
        assert!(CopyInstruction::new("a\nb", "/x").is_err());
        assert!(CopyInstruction::new("dir/../../x", "/x").is_err());
        assert!(CopyInstruction::new("/etc/passwd", "/x").is_err());
        let c = CopyInstruction::new("we\"ird \\name", "/opt/a b/").unwrap();
        let json = c.to_instruction();
        let back: Vec<String> = serde_json::from_str(json.strip_prefix("COPY ").unwrap()).unwrap();
        assert_eq!(back, ["we\"ird \\name", "/opt/a b/"]);
    }

    #[test]
    fn full_render_orders_instructions() {
        let mut spec = DockerfileSpec::new(
            ImageRef::new("alpine:3").unwrap(),
            ExecForm::parse("/app").unwrap(),
        );
        spec.package_manager = PackageManager::Apk;
        spec.packages.push(PackageName::new("curl").unwrap());
        spec.copies
            .push(CopyInstruction::new("app", "/app").unwrap());
        spec.env.push(EnvInstruction::new("A=1").unwrap());
        spec.user = Some(User::new("65534").unwrap());
        let lines: Vec<String> = spec
            .render()
            .lines()
            .map(|l| l.split(' ').next().unwrap().to_string())
            .collect();
        assert_eq!(lines, ["FROM", "ENV", "RUN", "COPY", "USER", "CMD"]);
    }
}
