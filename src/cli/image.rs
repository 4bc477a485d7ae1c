//! `images`, `image inspect`, `image-exists`, `rmi`, `tag`, `import`, `save`, `load`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;
use serde_json::json;

use super::{duration_arg, Global, Out};
use dockhand::image::{self, Change, Image, ImportOptions, ListOptions};
use dockhand::input::{ImageRef, ImageTag, KeyValue};
use dockhand::Error;

impl Command {
    /// Why this command cannot run on a fleet's hosts at once (`None`: it can).
    pub fn fleet_refusal(&self) -> Option<&'static str> {
        match self {
            Command::Save { .. } => Some("`save` writes one local archive: run it per host"),
            _ => None,
        }
    }
}

/// Image subcommands.
#[derive(Subcommand, Debug, Clone)]
#[command(defer = true)]
pub enum Command {
    /// List images, fully inspected (two engine calls, whatever their number).
    #[command(
        after_help = "Examples:\n  dockhand images\n  dockhand --json images --filter reference=app"
    )]
    Images {
        /// Also intermediate images.
        #[arg(short, long)]
        all: bool,
        /// Engine filter, e.g. label=k=v, dangling=true, reference=app*.
        #[arg(long, value_name = "KEY=VALUE")]
        filter: Vec<String>,
    },
    /// Inspect images.
    #[command(
        after_help = "Examples:\n  dockhand image inspect busybox:latest\n  dockhand image history busybox:latest"
    )]
    Image {
        #[command(subcommand)]
        cmd: ImageCommand,
    },
    /// Exit 0 when the image exists, 3 when it does not.
    #[command(after_help = "Examples:\n  dockhand image-exists app:1.2 || dockhand pull app:1.2")]
    #[command(name = "image-exists")]
    ImageExists {
        /// Image reference or id.
        image: String,
    },
    /// Remove images; images that do not exist count as removed.
    #[command(after_help = "Examples:\n  dockhand rmi app:old app:older")]
    Rmi {
        /// Also remove images in use (and untag every tag).
        #[arg(short, long)]
        force: bool,
        /// Image references or ids.
        #[arg(required = true)]
        images: Vec<String>,
    },
    /// Give an image another name.
    #[command(after_help = "Examples:\n  dockhand tag app:build app:1.2")]
    Tag {
        /// Existing image.
        source: String,
        /// New name, name[:tag].
        target: String,
    },
    /// Create an image from a root-filesystem tarball; prints its full id.
    #[command(
        after_help = "Examples:\n  dockhand import rootfs.tar app:base -c 'CMD [\"/bin/sh\"]'"
    )]
    Import {
        /// The tarball.
        tarball: PathBuf,
        /// Name for the image, name[:tag].
        reference: Option<String>,
        /// Config instruction to apply: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, …
        #[arg(short = 'c', long)]
        change: Vec<String>,
        /// Time limit of the whole import (default: --timeout when given, else 30m; 0 = none).
        #[arg(long, value_name = "DURATION", value_parser = duration_arg)]
        max_time: Option<Duration>,
    },
    /// Write images into one archive (docker-archive), replacing FILE.
    #[command(after_help = "Examples:\n  dockhand save -o images.tar app:1 busybox:latest")]
    Save {
        /// Image references or ids.
        #[arg(required = true)]
        images: Vec<String>,
        /// The archive to write.
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// Time limit of the whole save (default: --timeout when given, else 30m; 0 = none).
        #[arg(long, value_name = "DURATION", value_parser = duration_arg)]
        max_time: Option<Duration>,
    },
    /// Load images from an archive; prints what was loaded.
    #[command(after_help = "Examples:\n  dockhand load --input images.tar")]
    Load {
        /// The archive to read.
        #[arg(short, long, value_name = "FILE")]
        input: PathBuf,
        /// Time limit of the whole load (default: --timeout when given, else 30m; 0 = none).
        #[arg(long, value_name = "DURATION", value_parser = duration_arg)]
        max_time: Option<Duration>,
    },
}

// `image …` subcommands. (Not a doc comment: clap
// would show it as the about line of the commands using it, built deferred.)
#[derive(Subcommand, Debug, Clone)]
#[command(defer = true)]
pub enum ImageCommand {
    /// Inspect images in one engine call; prints the found ones and exits 3
    /// when any is missing.
    #[command(
        after_help = "Examples:\n  dockhand image inspect busybox:latest\n  dockhand --format '{{.id}}' image inspect busybox:latest"
    )]
    Inspect {
        /// Image references or ids.
        #[arg(required = true)]
        images: Vec<String>,
    },
    /// The layers an image was built from, newest first: id, creation time,
    /// size in bytes, the instruction.
    #[command(
        after_help = "Examples:\n  dockhand image history busybox:latest\n  dockhand --json image history busybox:latest"
    )]
    History {
        /// Image reference or id.
        image: ImageRef,
    },
}

/// Run one image subcommand; returns the exit code.
pub fn run(cmd: Command, global: &Global, out: &Out) -> Result<i32, Error> {
    match cmd {
        Command::Images { all, filter } => {
            let opts = ListOptions {
                all,
                filters: KeyValue::many("filter", &filter)?,
            };
            let images = global.engine()?.images().list(&opts)?;
            print_images(out, &images);
            Ok(0)
        }
        Command::Image {
            cmd: ImageCommand::Inspect { images },
        } => {
            let refs = ImageRef::many(images)?;
            let found = global.engine()?.run(image::inspect_plan(&refs))?;
            print_inspected(out, &found.items);
            found.error.map_or(Ok(0), Err)
        }
        Command::Image {
            cmd: ImageCommand::History { image },
        } => {
            let layers = global.engine()?.images().history(&image)?;
            match out.is_json() {
                true => out.json(&layers),
                false => {
                    out.line(format!(
                        "{:<12}  {:<30}  {:>10}  CREATED BY",
                        "IMAGE", "CREATED", "SIZE"
                    ));
                    for l in &layers {
                        let id = l.id.as_deref().map_or("<missing>", |id| {
                            dockhand::decode::json::short_id(id.trim_start_matches("sha256:"))
                        });
                        out.line(format!(
                            "{:<12}  {:<30}  {:>10}  {}",
                            id,
                            l.created.as_deref().unwrap_or("-"),
                            l.size_bytes,
                            l.created_by
                        ));
                    }
                }
            }
            Ok(0)
        }
        Command::ImageExists { image } => {
            let image = ImageRef::new(image)?;
            let exists = global.engine()?.images().exists(&image)?;
            if out.is_json() {
                out.json(&json!({"image": image, "exists": exists}));
            }
            Ok(if exists { 0 } else { 3 })
        }
        Command::Rmi { force, images } => {
            let refs = ImageRef::many(images)?;
            let report = global.engine()?.images().remove(&refs, force)?;
            print_lines(out, "removed", &report);
            Ok(0)
        }
        Command::Tag { source, target } => {
            let (source, target) = (ImageRef::new(source)?, ImageTag::new(target)?);
            global.engine()?.images().tag(&source, &target)?;
            if out.is_json() {
                out.json(&json!({"source": source, "target": target}));
            }
            Ok(0)
        }
        Command::Import {
            tarball,
            reference,
            change,
            max_time,
        } => {
            let mut opts = ImportOptions::new(tarball, reference.map(ImageTag::new).transpose()?);
            opts.changes = change
                .iter()
                .map(|c| Change::new(c))
                .collect::<Result<_, _>>()?;
            opts.timeout = global.transfer_timeout(max_time);
            let id = global.engine()?.images().import(&opts)?;
            print_id(out, &id);
            Ok(0)
        }
        Command::Save {
            images,
            output,
            max_time,
        } => {
            let refs = ImageRef::many(images)?;
            global
                .engine()?
                .images()
                .save(&refs, &output, global.transfer_timeout(max_time))?;
            if out.is_json() {
                out.json(&json!({"path": output, "images": refs}));
            }
            Ok(0)
        }
        Command::Load { input, max_time } => {
            let loaded = global
                .engine()?
                .images()
                .load(&input, global.transfer_timeout(max_time))?;
            print_lines(out, "loaded", &loaded);
            Ok(0)
        }
    }
}

/// The new image's id (empty in a dry run: nothing was made).
fn print_id(out: &Out, id: &str) {
    if id.is_empty() {
        return;
    }
    if out.is_json() {
        out.json(&json!({ "id": id }));
    } else {
        out.line(id);
    }
}

fn print_lines(out: &Out, key: &str, lines: &[String]) {
    if out.is_json() {
        out.json(&json!({ key: lines }));
    } else {
        for l in lines {
            out.line(l);
        }
    }
}

/// Sizes as docker prints them (decimal units).
fn human_size(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit < units.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes}B")
    } else {
        format!("{size:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
            + units[unit]
    }
}

fn short_id(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    dockhand::decode::json::short_id(hex)
}

fn print_images(out: &Out, images: &[Image]) {
    if out.is_json() {
        out.json(&images);
        return;
    }
    out.line(format!(
        "{:<12}  {:<9}  {:<30}  TAGS",
        "ID", "SIZE", "CREATED"
    ));
    for i in images {
        let tags = if i.tags.is_empty() {
            "<none>".to_string()
        } else {
            i.tags.join(", ")
        };
        out.line(format!(
            "{:<12}  {:<9}  {:<30}  {tags}",
            short_id(&i.id),
            human_size(i.size),
            i.created
        ));
    }
}

fn print_inspected(out: &Out, images: &[Image]) {
    if out.is_json() {
        out.json(&images);
        return;
    }
    for i in images {
        out.line(&i.id);
        out.line(format!("  tags:         {}", i.tags.join(", ")));
        out.line(format!("  digests:      {}", i.digests.join(", ")));
        out.line(format!("  created:      {}", i.created));
        out.line(format!(
            "  size:         {} ({} bytes)",
            human_size(i.size),
            i.size
        ));
        out.line(format!("  platform:     {}/{}", i.os, i.architecture));
        out.line(format!(
            "  cmd:          {}",
            serde_json::to_string(&i.config.cmd).unwrap_or_default()
        ));
        if !i.config.entrypoint.is_empty() {
            out.line(format!(
                "  entrypoint:   {}",
                serde_json::to_string(&i.config.entrypoint).unwrap_or_default()
            ));
        }
        if !i.config.user.is_empty() {
            out.line(format!("  user:         {}", i.config.user));
        }
        for (k, v) in &i.labels {
            out.line(format!("  label:        {k}={v}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_docker() {
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(1_984_178), "1.984MB");
        assert_eq!(human_size(2_000_000), "2MB");
        assert_eq!(
            short_id("sha256:491b992cd46ba9a42588b1547a9b1df4"),
            "491b992cd46b"
        );
    }
}
