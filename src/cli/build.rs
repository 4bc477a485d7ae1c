//! `build` and `dockerfile`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Subcommand, ValueEnum};
use serde_json::json;

use super::{duration_arg, Global, Out};
use dockhand::image::build::{BuildOptions, Builder};
use dockhand::image::context::{ContextSha256, ContextSource};
use dockhand::image::dockerfile::{
    CopyInstruction, DockerfileSpec, EnvInstruction, ExecForm, PackageManager, PackageName, User,
};
use dockhand::input::{BuildStage, ImageRef, ImageTag, KeyValue, MemorySize, NetworkName};
use dockhand::{Error, ErrorKind};

/// Which docker builder `build` uses.
#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum BuilderArg {
    /// The engine's default.
    Auto,
    /// Docker's classic builder (DOCKER_BUILDKIT=0).
    Classic,
    /// BuildKit (DOCKER_BUILDKIT=1; a 20.10 CLI, or a newer one with buildx).
    Buildkit,
}

impl Command {
    /// Why this command cannot run on a fleet's hosts at once (`None`: it can).
    pub fn fleet_refusal(&self) -> Option<&'static str> {
        match self {
            Command::Dockerfile { .. } => Some("`dockerfile` asks no engine: run it once"),
            _ => None,
        }
    }
}

/// Build subcommands.
#[derive(Subcommand, Debug, Clone)]
#[command(defer = true)]
pub enum Command {
    /// Build an image; prints its full id (sha256:<64 hex>), read from --iidfile.
    /// CONTEXT is a directory, an http(s) tarball URL, or a git repository
    /// (git://, ssh://, git@host:path, http(s)://….git, with #ref:subdir):
    /// dockhand fetches remote ones itself (bounded in time and size, retried
    /// when transient) and hands the engine a local context.
    #[command(after_help = "Examples:\n  dockhand build ./app -t app:dev\n  \
        dockhand build https://example.com/app.tar.gz --context-sha256 <64 hex> -f docker/Dockerfile -t app:1\n  \
        dockhand --json build 'git@example.com:team/app.git#v1.2:server' -t app:1.2")]
    Build {
        /// Directory, tarball URL, or git URL[#ref[:subdir]].
        #[arg(value_name = "CONTEXT")]
        build_context: String,
        /// Dockerfile (default: CONTEXT/Dockerfile; for a fetched context a path inside it).
        #[arg(short, long, value_name = "DOCKERFILE")]
        file: Option<PathBuf>,
        /// Name for the image, name[:tag] (repeatable).
        #[arg(short, long)]
        tag: Vec<String>,
        /// Build this stage of a multi-stage Dockerfile (default: the last).
        #[arg(long, value_name = "STAGE")]
        target: Option<String>,
        /// Do not use the build cache.
        #[arg(long)]
        no_cache: bool,
        /// Always try to pull newer base images.
        #[arg(long)]
        pull: bool,
        /// Build argument KEY=VALUE (repeatable).
        #[arg(long, value_name = "KEY=VALUE")]
        build_arg: Vec<String>,
        /// Label KEY=VALUE on the image (repeatable).
        #[arg(short, long, value_name = "KEY=VALUE")]
        label: Vec<String>,
        /// Network for RUN steps: none, host, or a network name.
        #[arg(long)]
        network: Option<String>,
        /// Docker builder; podman always uses buildah.
        #[arg(long, value_enum, default_value = "auto")]
        builder: BuilderArg,
        /// Time limit of the whole build (default: --timeout when given, else 30m; 0 = none).
        #[arg(long, value_name = "DURATION", value_parser = duration_arg)]
        max_time: Option<Duration>,
        /// SHA-256 the downloaded tarball must have (64 hex, optionally sha256:…).
        #[arg(long, value_name = "HEX")]
        context_sha256: Option<String>,
        /// Most bytes a fetched context may have (e.g. 64m; a git checkout counts .git).
        #[arg(long, value_name = "SIZE", default_value = "64m")]
        context_max_size: String,
        /// Time limit of each attempt to fetch a remote context (0 = none).
        #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = duration_arg)]
        fetch_timeout: Duration,
    },
    /// Write a Dockerfile for a light image: base, command, packages, files, env, user.
    #[command(
        after_help = "Examples:\n  dockhand dockerfile --from debian:12 --cmd 'app --serve' --pkg curl --user app -o Dockerfile"
    )]
    Dockerfile {
        /// Base image.
        #[arg(long, value_name = "IMAGE")]
        from: String,
        /// Command, split like a shell would (quotes, no expansion) into exec form.
        #[arg(long, value_name = "COMMAND")]
        cmd: String,
        /// Package to install (repeatable); lower-case letters, digits, + . _ - [=VERSION].
        #[arg(long, value_name = "NAME")]
        pkg: Vec<String>,
        /// Package manager of the base image: apt, apk, dnf, opkg.
        #[arg(long, value_name = "MANAGER", default_value = "apt")]
        pkg_manager: String,
        /// Run the command as this user (name or uid[:gid]).
        #[arg(long)]
        user: Option<String>,
        /// Environment variable KEY=VALUE (repeatable).
        #[arg(long, value_name = "KEY=VALUE")]
        env: Vec<String>,
        /// Copy SRC (in the build context) to DST (repeatable).
        #[arg(long, num_args = 2, value_names = ["SRC", "DST"])]
        copy: Vec<String>,
        /// Write to FILE instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// Run one build subcommand; returns the exit code.
pub fn run(cmd: Command, global: &Global, out: &Out) -> Result<i32, Error> {
    match cmd {
        Command::Build {
            build_context,
            file,
            tag,
            target,
            no_cache,
            pull,
            build_arg,
            label,
            network,
            builder,
            max_time,
            context_sha256,
            context_max_size,
            fetch_timeout,
        } => {
            let mut opts = BuildOptions::new(ContextSource::parse(&build_context)?);
            opts.dockerfile = file;
            opts.tags = ImageTag::many(tag)?;
            opts.target = target.map(BuildStage::new).transpose()?;
            opts.no_cache = no_cache;
            opts.pull = pull;
            opts.build_args = KeyValue::many("build arg", &build_arg)?;
            opts.labels = KeyValue::many("label", &label)?;
            opts.network = network.map(NetworkName::new).transpose()?;
            opts.builder = match builder {
                BuilderArg::Auto => Builder::Auto,
                BuilderArg::Classic => Builder::Classic,
                BuilderArg::Buildkit => Builder::BuildKit,
            };
            opts.timeout = global.transfer_timeout(max_time);
            opts.context_sha256 = context_sha256
                .as_deref()
                .map(ContextSha256::new)
                .transpose()?;
            opts.fetch.max_size = MemorySize::new(&context_max_size)
                .map_err(|_| {
                    Error::invalid_input(format!(
                        "invalid --context-max-size {context_max_size:?}: a positive number with an optional unit b, k, m or g"
                    ))
                })?
                .bytes();
            opts.fetch.timeout = (!fetch_timeout.is_zero()).then_some(fetch_timeout);
            let built = global.engine()?.images().build(&opts)?;
            if built.id.is_empty() {
                // A dry run: the build was only printed.
            } else if out.is_json() {
                out.json(&built);
            } else {
                out.line(&built.id);
            }
            Ok(0)
        }
        Command::Dockerfile {
            from,
            cmd,
            pkg,
            pkg_manager,
            user,
            env,
            copy,
            output,
        } => {
            let mut spec = DockerfileSpec::new(ImageRef::new(from)?, ExecForm::parse(&cmd)?);
            spec.packages = pkg
                .iter()
                .map(|p| PackageName::new(p))
                .collect::<Result<_, _>>()?;
            spec.package_manager = PackageManager::new(&pkg_manager)?;
            spec.user = user.as_deref().map(User::new).transpose()?;
            spec.env = env
                .iter()
                .map(|e| EnvInstruction::new(e))
                .collect::<Result<_, _>>()?;
            spec.copies = copy
                .chunks(2)
                .map(|pair| CopyInstruction::new(&pair[0], &pair[1]))
                .collect::<Result<_, _>>()?;
            let text = spec.render();
            if let Some(path) = &output {
                std::fs::write(path, &text).map_err(|e| {
                    Error::new(
                        ErrorKind::EngineFailure,
                        format!("cannot write {}: {e}", path.display()),
                    )
                })?;
            }
            if out.is_json() {
                out.json(&json!({"dockerfile": text, "spec": spec, "path": output}));
            } else if output.is_none() {
                out.line(text.trim_end());
            }
            Ok(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    #[test]
    fn every_new_subcommand_parses_next_to_the_global_options() {
        // An argument id shared with a global option (e.g. a positional
        // named `context` vs --context) only fails when parsed.
        for line in [
            "build /ctx -f /ctx/D -t a:1 --build-arg A=1 -l k=v --builder buildkit --max-time 5m --network none",
            "build git://h/a.git#v1:app --context-max-size 1m --fetch-timeout 30s",
            "build http://h/a.tar.gz --context-sha256 0123",
            "dockerfile --from a --cmd true --copy a /a --copy b /b --env A=1 --pkg curl",
            "images -a --filter dangling=true",
            "image inspect a b",
            "image-exists a",
            "rmi -f a b",
            "tag a b",
            "import /x.tar a:1 -c LABEL=a",
            "save a b -o /x.tar",
            "load -i /x.tar",
            "network ls --filter label=a=b",
            "network create n --subnet 10.0.0.0/24 --gateway 10.0.0.1 --internal -l a=b --driver bridge",
            "network connect n c --alias x",
            "network disconnect -f n c",
            "network gateway",
            "network rm a b",
            "volume create v -o type=tmpfs -l a=b --driver local",
            "volume rm -f v",
            "daemon-config --file /tmp/d.json set a 1",
            "info",
        ] {
            let argv = std::iter::once("dockhand").chain(line.split(' ')).chain(["--context", "ctx"]);
            let cli = crate::cli::Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(cli.global.context.as_deref(), Some("ctx"), "{line}");
        }
    }
}
