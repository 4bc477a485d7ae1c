//! The one way plans build an argv.
//!
//! Options with a value are always one word, `--name=value`, so a value can
//! never be taken for an option of its own, whatever it starts with; user
//! values that are operands come after a `--` that [`Argv::operands`] puts
//! there itself. Every plan function builds its arguments with [`Argv`].

use std::ffi::{OsStr, OsString};
use std::fmt::Display;
use std::path::Path;

/// The arguments of one command after the program, built word by word.
///
/// ```
/// use dockhand::engine::Argv;
/// let labels = ["app=web", "tier=front"];
/// let argv = Argv::new("run")
///     .flag("--detach")
///     .opt("--name", Some("web"))
///     .each("--label", labels)
///     .flag_if("--rm", false)
///     .operands(["busybox", "-x"]);
/// assert_eq!(argv.words(), ["run", "--detach", "--name=web", "--label=app=web", "--label=tier=front", "--", "busybox", "-x"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use = "an Argv does nothing until a plan takes it"]
pub struct Argv(Vec<OsString>);

impl Argv {
    /// Arguments starting with the subcommand `verb` (`ps`, `network`, `-j` …).
    pub fn new(verb: impl Into<OsString>) -> Argv {
        Argv(vec![verb.into()])
    }

    /// One literal word: a subcommand word, a flag, or a value that must stand
    /// on its own after its flag (`--tail`, `N`) where the tool wants that.
    pub fn arg(mut self, word: impl Into<OsString>) -> Argv {
        self.0.push(word.into());
        self
    }

    /// Several literal words.
    pub fn args<I>(mut self, words: I) -> Argv
    where
        I: IntoIterator,
        I::Item: Into<OsString>,
    {
        self.0.extend(words.into_iter().map(Into::into));
        self
    }

    /// A flag without a value (`--privileged`); same as [`Argv::arg`], named
    /// for what it is.
    pub fn flag(self, flag: &str) -> Argv {
        self.arg(flag)
    }

    /// `flag` when `on`.
    ///
    /// ```
    /// use dockhand::engine::Argv;
    /// assert_eq!(Argv::new("ps").flag_if("-a", true).flag_if("-q", false).words(), ["ps", "-a"]);
    /// ```
    pub fn flag_if(self, flag: &str, on: bool) -> Argv {
        match on {
            true => self.arg(flag),
            false => self,
        }
    }

    /// `flag=value` as one word when there is a value.
    ///
    /// ```
    /// use dockhand::engine::Argv;
    /// assert_eq!(Argv::new("stop").opt("--time", Some(3)).opt("--signal", None::<&str>).words(), ["stop", "--time=3"]);
    /// ```
    pub fn opt(self, flag: &str, value: Option<impl Display>) -> Argv {
        self.each(flag, value)
    }

    /// `flag=value` as one word for every value, in order.
    pub fn each<I>(mut self, flag: &str, values: I) -> Argv
    where
        I: IntoIterator,
        I::Item: Display,
    {
        self.0
            .extend(values.into_iter().map(|v| format!("{flag}={v}").into()));
        self
    }

    /// `flag` and `value` as two words when there is a value, for the places
    /// a tool (or a test) wants them apart (`--tail 20`, `--target 42`).
    ///
    /// ```
    /// use dockhand::engine::Argv;
    /// assert_eq!(Argv::new("logs").pair("--tail", Some("20")).pair("--since", None::<&str>).words(), ["logs", "--tail", "20"]);
    /// ```
    pub fn pair(self, flag: &str, value: Option<impl Into<OsString>>) -> Argv {
        match value {
            Some(v) => self.arg(flag).arg(v),
            None => self,
        }
    }

    /// `flag=PATH` as one word when there is a path; the path need not be UTF-8.
    ///
    /// ```
    /// use std::path::Path;
    /// use dockhand::engine::Argv;
    /// assert_eq!(Argv::new("export").opt_path("--output", Some(Path::new("/t/x.tar"))).words(), ["export", "--output=/t/x.tar"]);
    /// ```
    pub fn opt_path(self, flag: &str, path: Option<&Path>) -> Argv {
        self.each_path(flag, path)
    }

    /// `flag=PATH` as one word for every path, in order.
    pub fn each_path<'a, I>(mut self, flag: &str, paths: I) -> Argv
    where
        I: IntoIterator<Item = &'a Path>,
    {
        for path in paths {
            let mut word = OsString::from(format!("{flag}="));
            word.push(path.as_os_str());
            self.0.push(word);
        }
        self
    }

    /// `--`, then the operands (names, ids, the image and its command …):
    /// after it nothing is read as an option.
    ///
    /// ```
    /// use dockhand::engine::Argv;
    /// assert_eq!(Argv::new("rm").operands(["-web"]).words(), ["rm", "--", "-web"]);
    /// ```
    pub fn operands<I>(mut self, values: I) -> Argv
    where
        I: IntoIterator,
        I::Item: AsRef<OsStr>,
    {
        self.0.push("--".into());
        self.0
            .extend(values.into_iter().map(|v| v.as_ref().to_os_string()));
        self
    }

    /// How many words so far (the verb included).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no words (never true for an `Argv::new`).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The words so far, lossily as text (for tests and messages).
    pub fn words(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|w| w.to_string_lossy().into_owned())
            .collect()
    }
}

/// Words that are all literal already (`ip link set dev eth1 up`).
impl<S: Into<OsString>> FromIterator<S> for Argv {
    fn from_iter<I: IntoIterator<Item = S>>(words: I) -> Argv {
        Argv(words.into_iter().map(Into::into).collect())
    }
}

impl IntoIterator for Argv {
    type Item = OsString;
    type IntoIter = std::vec::IntoIter<OsString>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}
