//! Image references as callers give them: `busybox`, `dockhand-test/busybox:latest`,
//! `registry.local:5000/team/app:1.2@sha256:…`, an image id or id prefix.
//!
//! The grammar is docker's reference grammar (distribution/reference), checked
//! here so that a bad reference is refused before any engine runs:
//!
//! ```text
//! reference  := name [ ":" tag ] [ "@" digest ]
//! name       := [ domain "/" ] path ( "/" path )*
//! domain     := host-part ( "." host-part )* [ ":" port ]     (first part, only when it has "." or ":" or is "localhost")
//! path       := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//! tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//! digest     := algorithm ":" [0-9a-fA-F]{32,}
//! ```

use serde::Serialize;

use super::check_plain;
use crate::error::{Error, Result};

/// Longest name part docker accepts.
const MAX_NAME: usize = 255;
/// Longest tag docker accepts.
const MAX_TAG: usize = 128;

/// An image reference (name, name:tag, name@digest, id or id prefix),
/// validated against docker's reference grammar.
///
/// ```
/// use dockhand::input::ImageRef;
/// for ok in ["busybox", "dockhand-test/busybox:latest", "localhost:5000/a/b:1",
///            "0123456789ab", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"] {
///     assert!(ImageRef::new(ok).is_ok(), "{ok}");
/// }
/// for bad in ["", "-q", "Busybox", "a b", "a;b", "$(id)", "a:", "a/", "a//b", "a:b:c"] {
///     assert!(ImageRef::new(bad).is_err(), "{bad:?}");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ImageRef(String);

/// A reference that names a tag to create (`name[:tag]`, no digest): the
/// target of `tag`, `build -t`, `import`.
///
/// ```
/// use dockhand::input::ImageTag;
/// assert!(ImageTag::new("dockhand/app:1").is_ok());
/// assert!(ImageTag::new("app@sha256:0123456789abcdef0123456789abcdef").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ImageTag(String);

impl ImageRef {
    /// Validate an image reference.
    pub fn new(text: impl Into<String>) -> Result<ImageRef> {
        let text = text.into();
        parse(&text)?;
        Ok(ImageRef(text))
    }

    /// Validate many at once (the first bad one is the error).
    pub fn many<I, S>(texts: I) -> Result<Vec<ImageRef>>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        texts.into_iter().map(ImageRef::new).collect()
    }

    /// The reference as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ImageTag {
    /// Validate a tag to create: a reference without a digest.
    pub fn new(text: impl Into<String>) -> Result<ImageTag> {
        let text = text.into();
        if parse(&text)?.has_digest {
            return Err(Error::invalid_input(format!(
                "{text:?} has a digest: a tag to create is `name[:tag]`"
            )));
        }
        Ok(ImageTag(text))
    }

    /// Validate many at once (the first bad one is the error).
    pub fn many<I, S>(texts: I) -> Result<Vec<ImageTag>>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        texts.into_iter().map(ImageTag::new).collect()
    }

    /// The tag as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The same text as an [`ImageRef`] (every tag is a valid reference).
    pub fn to_ref(&self) -> ImageRef {
        ImageRef(self.0.clone())
    }
}

/// A platform such as `linux/arm64` or `linux/arm/v7`: two or three
/// `/`-separated parts of lower-case letters, digits and `_`.
///
/// ```
/// use dockhand::input::Platform;
/// assert!(Platform::new("linux/arm/v7").is_ok());
/// for bad in ["linux", "linux/", "Linux/amd64", "linux/amd64;x", "a/b/c/d"] {
///     assert!(Platform::new(bad).is_err(), "{bad}");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Platform(String);

impl Platform {
    /// Validate `os/arch[/variant]`.
    pub fn new(text: impl Into<String>) -> Result<Platform> {
        let text = text.into();
        let parts: Vec<&str> = text.split('/').collect();
        let valid = (2..=3).contains(&parts.len())
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            });
        if !valid {
            return Err(Error::invalid_input(format!(
                "invalid platform {text:?}: use os/arch[/variant], e.g. linux/arm64 or linux/arm/v7"
            )));
        }
        Ok(Platform(text))
    }

    /// The platform as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A registry server as `login`/`logout` name it: `host[:port]`
/// (`registry.example.com`, `127.0.0.1:5000`, `localhost:5000`), the domain
/// part of an image reference. Always given: docker's `logout` without one
/// logs out of Docker Hub.
///
/// ```
/// use dockhand::input::{ImageRef, Registry};
/// assert!(Registry::new("127.0.0.1:5000").is_ok());
/// for bad in ["", "-x", "a b", "https://x", "x:", "x:y", "a/b"] {
///     assert!(Registry::new(bad).is_err(), "{bad:?}");
/// }
/// let image = ImageRef::new("127.0.0.1:5000/team/app:1").unwrap();
/// assert_eq!(Registry::of(&image).unwrap().as_str(), "127.0.0.1:5000");
/// assert!(Registry::of(&ImageRef::new("busybox").unwrap()).is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Registry(String);

impl Registry {
    /// Validate `host[:port]`.
    pub fn new(text: impl Into<String>) -> Result<Registry> {
        let text = text.into();
        check_plain("registry", &text)?;
        check_domain(&text, &text)
            .map_err(|_| Error::invalid_input(format!("invalid registry {text:?}: use host[:port], e.g. registry.example.com or 127.0.0.1:5000")))?;
        Ok(Registry(text))
    }

    /// The registry an image reference names (`None`: the default one, Docker Hub).
    pub fn of(image: &ImageRef) -> Option<Registry> {
        let (first, rest) = image.as_str().split_once('/')?;
        let is_domain = first.contains('.') || first.contains(':') || first == "localhost";
        (is_domain && !rest.is_empty()).then(|| Registry(first.to_string()))
    }

    /// The registry as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the parser learnt about a valid reference.
struct Parsed {
    has_digest: bool,
}

fn bad(text: &str, why: &str) -> Error {
    Error::invalid_input(format!("invalid image reference {text:?}: {why}"))
}

fn parse(text: &str) -> Result<Parsed> {
    check_plain("image reference", text)?;
    let (rest, digest) = match text.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (text, None),
    };
    if let Some(d) = digest {
        check_digest(text, d)?;
    }
    // A ':' after the last '/' starts the tag; one before it is a registry port.
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].find(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(t) = tag {
        check_tag(text, t)?;
    }
    check_name(text, name)?;
    Ok(Parsed {
        has_digest: digest.is_some(),
    })
}

fn check_name(text: &str, name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(bad(text, "the name is empty"));
    }
    if name.len() > MAX_NAME {
        return Err(bad(text, "the name is longer than 255 characters"));
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    let first = parts[0];
    let is_domain = parts.len() > 1
        && (first.contains('.')
            || first.contains(':')
            || first == "localhost"
            || first.chars().any(|c| c.is_ascii_uppercase()));
    if is_domain {
        check_domain(text, first)?;
        parts.remove(0);
    }
    for part in parts {
        check_path_component(text, part)?;
    }
    Ok(())
}

fn check_domain(text: &str, domain: &str) -> Result<()> {
    let (host, port) = match domain.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (domain, None),
    };
    let host_ok = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if !host_ok {
        return Err(bad(text, "the registry host is not a valid host name"));
    }
    if let Some(p) = port {
        if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad(text, "the registry port must be a number"));
        }
    }
    Ok(())
}

/// `[a-z0-9]+ ( ("." | "_" | "__" | "-"+) [a-z0-9]+ )*`
fn check_path_component(text: &str, part: &str) -> Result<()> {
    let why =
        "each name component is lower-case letters and digits, joined by '.', '_', '__' or dashes";
    let bytes = part.as_bytes();
    if bytes.is_empty() {
        return Err(bad(
            text,
            "the name has an empty component ('//' or a trailing '/')",
        ));
    }
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    loop {
        let start = i;
        while i < bytes.len() && alnum(bytes[i]) {
            i += 1;
        }
        if i == start {
            return Err(bad(text, why));
        }
        if i == bytes.len() {
            return Ok(());
        }
        let sep_start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &part[sep_start..i];
        let valid_sep = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !valid_sep || i == bytes.len() {
            return Err(bad(text, why));
        }
    }
}

fn check_tag(text: &str, tag: &str) -> Result<()> {
    let mut chars = tag.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if !first_ok || !rest_ok || tag.len() > MAX_TAG {
        return Err(bad(
            text,
            "a tag is up to 128 letters, digits, '_', '.', '-' (not starting with '.' or '-')",
        ));
    }
    Ok(())
}

fn check_digest(text: &str, digest: &str) -> Result<()> {
    let valid = digest.split_once(':').is_some_and(|(algo, hex)| {
        !algo.is_empty()
            && algo
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+._-".contains(c))
            && hex.len() >= 32
            && hex.chars().all(|c| c.is_ascii_hexdigit())
    });
    if valid {
        Ok(())
    } else {
        Err(bad(
            text,
            "a digest is `algorithm:hex` (e.g. sha256:<64 hex>)",
        ))
    }
}

text_impls!(ImageRef);
text_impls!(ImageTag);
text_impls!(Platform);
text_impls!(Registry);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_docker_grammar() {
        for ok in [
            "a",
            "a_b",
            "a__b",
            "a---b",
            "a.b",
            "library/busybox:1.36.1",
            "registry.example.com/team/app:v1_2-3.x",
            "localhost/app",
            "127.0.0.1:5000/x/y:1",
            "Registry.Local/app",
            "app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "app:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(ImageRef::new(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_what_docker_refuses_and_shell_text() {
        for bad in [
            "a..b",
            "a._b",
            "_a",
            "a-",
            "app:",
            "app:-x",
            "app:.x",
            &format!("app:{}", "x".repeat(129)),
            "app@sha256:12",
            "app@",
            "host:port/app",
            "a b",
            "a\nb",
            "--help",
            "a|b",
            "`id`",
            "a/b/",
        ] {
            let e = ImageRef::new(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{bad:?}");
        }
    }

    #[test]
    fn tags_refuse_digests_but_take_ports() {
        assert!(ImageTag::new("localhost:5000/app:2").is_ok());
        let e = ImageTag::new("app@sha256:0123456789abcdef0123456789abcdef").unwrap_err();
        assert!(e.message().contains("digest"), "{e}");
    }

    #[test]
    fn messages_say_what_is_wrong() {
        let e = ImageRef::new("App").unwrap_err();
        assert!(e.message().contains("lower-case"), "{e}");
        let e = ImageRef::new("a:b:c").unwrap_err();
        assert!(e.message().contains("tag"), "{e}");
    }
}
