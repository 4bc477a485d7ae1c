//! Resource limits: memory and swap sizes, CPU counts, sets, CFS quota and
//! period, pids, block-IO weight, OOM score adjustment.

use std::fmt;

use serde::Serialize;

use crate::error::{Error, Result};

/// A memory size: bytes, or a number with `b`, `k`, `m`, `g` (powers of 1024).
///
/// ```
/// use dockhand::input::MemorySize;
/// assert_eq!(MemorySize::new("64m").unwrap().bytes(), 64 << 20);
/// assert_eq!(MemorySize::from_bytes(512).unwrap().to_string(), "512");
/// assert!(MemorySize::new("12qq").is_err());
/// assert!(MemorySize::new("-1").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct MemorySize(u64);

impl MemorySize {
    /// Parse a size.
    pub fn new(text: &str) -> Result<MemorySize> {
        let t = text.trim().to_ascii_lowercase();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (number, unit) = t.split_at(split);
        let shift = match unit {
            "" | "b" => 0,
            "k" | "kb" => 10,
            "m" | "mb" => 20,
            "g" | "gb" => 30,
            _ => return Err(bad_size(text)),
        };
        let n: u64 = number.parse().map_err(|_| bad_size(text))?;
        n.checked_mul(1 << shift)
            .and_then(|b| MemorySize::from_bytes(b).ok())
            .ok_or_else(|| bad_size(text))
    }

    /// A size in bytes: more than 0, at most `i64::MAX` (what the engines store).
    pub fn from_bytes(bytes: u64) -> Result<MemorySize> {
        match bytes {
            1..=0x7fff_ffff_ffff_ffff => Ok(MemorySize(bytes)),
            _ => Err(bad_size(&bytes.to_string())),
        }
    }

    /// Size in bytes.
    pub fn bytes(self) -> u64 {
        self.0
    }
}
text_type!(MemorySize);

/// Bytes, the form every engine reads the same way.
impl fmt::Display for MemorySize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

fn bad_size(text: &str) -> Error {
    Error::invalid_input(format!(
        "invalid memory size {text:?}: use a positive number with an optional unit b, k, m or g"
    ))
}

/// `--memory-swap`: memory plus swap, or unlimited swap (`-1`).
///
/// ```
/// use dockhand::input::MemorySwap;
/// assert_eq!(MemorySwap::new("-1").unwrap(), MemorySwap::Unlimited);
/// assert_eq!(MemorySwap::new("128m").unwrap().to_string(), "134217728");
/// assert!(MemorySwap::new("-2").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MemorySwap {
    /// No limit on swap.
    Unlimited,
    /// Memory plus swap, in total.
    Limit(MemorySize),
}

impl MemorySwap {
    /// Parse `-1` or a size.
    pub fn new(text: &str) -> Result<MemorySwap> {
        match text.trim() {
            "-1" => Ok(MemorySwap::Unlimited),
            t => MemorySize::new(t).map(MemorySwap::Limit).map_err(|_| {
                Error::invalid_input(format!(
                    "invalid memory+swap size {text:?}: use -1 (unlimited) or a size such as 256m"
                ))
            }),
        }
    }
}
text_type!(MemorySwap);

impl fmt::Display for MemorySwap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemorySwap::Unlimited => f.write_str("-1"),
            MemorySwap::Limit(size) => size.fmt(f),
        }
    }
}

/// A CPU count such as `0.5` or `2` (more than 0, at most 1024).
///
/// ```
/// use dockhand::input::Cpus;
/// assert_eq!(Cpus::new("0.5").unwrap().to_string(), "0.5");
/// assert!(Cpus::new("0").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Cpus(f64);

impl Cpus {
    /// Parse a CPU count.
    pub fn new(text: &str) -> Result<Cpus> {
        match text.trim().parse::<f64>() {
            Ok(n) if n > 0.0 && n <= 1024.0 => Ok(Cpus(n)),
            _ => Err(Error::invalid_input(format!(
                "invalid CPU count {text:?}: use a number above 0 such as 0.5 or 2"
            ))),
        }
    }
}
text_type!(Cpus);

impl fmt::Display for Cpus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = format!("{:.3}", self.0);
        f.write_str(text.trim_end_matches('0').trim_end_matches('.'))
    }
}

/// A set of CPUs (or memory nodes) as the kernel's cpuset lists them:
/// `0`, `0-3`, `0,2-3` (ascending ranges, each number at most 4095).
///
/// ```
/// use dockhand::input::CpuSet;
/// assert_eq!(CpuSet::new("0-1,3").unwrap().to_string(), "0-1,3");
/// for bad in ["", "abc", "1-0", "0,", "-1", "0 1", "5000"] {
///     assert!(CpuSet::new(bad).is_err(), "{bad:?}");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct CpuSet(String);

impl CpuSet {
    /// Parse a cpuset list.
    pub fn new(text: &str) -> Result<CpuSet> {
        let number = |t: &str| {
            (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
                .then(|| t.parse::<u16>().ok())
                .flatten()
                .filter(|n| *n < 4096)
        };
        let valid = !text.is_empty()
            && text.split(',').all(|part| match part.split_once('-') {
                Some((a, b)) => matches!((number(a), number(b)), (Some(a), Some(b)) if a <= b),
                None => number(part).is_some(),
            });
        match valid {
            true => Ok(CpuSet(text.to_string())),
            false => Err(Error::invalid_input(format!(
                "invalid CPU set {text:?}: use numbers and ranges such as 0, 0-3 or 0,2-3"
            ))),
        }
    }

    /// The list as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
text_impls!(CpuSet);

bounded_int!(
    /// CFS quota in microseconds per period (`--cpu-quota`): at least 1000
    /// (1 ms), the kernel's minimum.
    ///
    /// ```
    /// use dockhand::input::CpuQuota;
    /// assert_eq!(CpuQuota::new("50000").unwrap().get(), 50000);
    /// assert!(CpuQuota::new("999").is_err() && CpuQuota::new("-1").is_err());
    /// ```
    CpuQuota(u32),
    1000,
    u32::MAX,
    "CPU quota (microseconds)"
);

bounded_int!(
    /// CFS period in microseconds (`--cpu-period`): 1000 (1 ms) to 1000000 (1 s).
    ///
    /// ```
    /// use dockhand::input::CpuPeriod;
    /// assert_eq!(CpuPeriod::new("100000").unwrap().get(), 100000);
    /// assert!(CpuPeriod::new("2000000").is_err());
    /// ```
    CpuPeriod(u32),
    1000,
    1_000_000,
    "CPU period (microseconds)"
);

bounded_int!(
    /// Relative block-IO weight (`--blkio-weight`), 10–1000.
    ///
    /// ```
    /// use dockhand::input::BlkioWeight;
    /// assert!(BlkioWeight::new("500").is_ok());
    /// assert!(BlkioWeight::new("5").is_err());
    /// ```
    BlkioWeight(u16),
    10,
    1000,
    "block-IO weight"
);

bounded_int!(
    /// OOM-killer score adjustment (`--oom-score-adj`), −1000–1000.
    ///
    /// ```
    /// use dockhand::input::OomScoreAdj;
    /// assert_eq!(OomScoreAdj::new("-500").unwrap().get(), -500);
    /// assert!(OomScoreAdj::new("2000").is_err());
    /// ```
    OomScoreAdj(i16),
    -1000,
    1000,
    "OOM score adjustment"
);

/// The most processes a container may have (`--pids-limit`).
///
/// ```
/// use dockhand::input::PidsLimit;
/// assert_eq!(PidsLimit::new("100").unwrap(), PidsLimit::Max(100));
/// assert_eq!(PidsLimit::new("-1").unwrap(), PidsLimit::Unlimited);
/// assert_eq!(PidsLimit::new("0").unwrap(), PidsLimit::Unlimited);
/// assert!(PidsLimit::new("-2").is_err() && PidsLimit::new("x").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PidsLimit {
    /// No limit (`-1`; both engines read `0` the same way).
    Unlimited,
    /// At most this many.
    Max(u32),
}

impl PidsLimit {
    /// Parse a count; `-1` and `0` mean unlimited.
    pub fn new(text: &str) -> Result<PidsLimit> {
        match text.trim() {
            "-1" | "0" => Ok(PidsLimit::Unlimited),
            t if t.bytes().all(|b| b.is_ascii_digit()) => t
                .parse::<u32>()
                .map(PidsLimit::Max)
                .map_err(|_| bad_pids(text)),
            _ => Err(bad_pids(text)),
        }
    }
}
text_type!(PidsLimit);

fn bad_pids(text: &str) -> Error {
    Error::invalid_input(format!(
        "invalid pids limit {text:?}: use a positive number, or -1 for no limit"
    ))
}

impl fmt::Display for PidsLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PidsLimit::Unlimited => f.write_str("-1"),
            PidsLimit::Max(n) => n.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_cpus() {
        assert_eq!(MemorySize::new("1g").unwrap().bytes(), 1 << 30);
        assert_eq!(MemorySize::new("512").unwrap().bytes(), 512);
        for bad in [
            "",
            "0",
            "-1m",
            "1.5g",
            "99999999999999g",
            "9223372036854775808",
        ] {
            assert!(MemorySize::new(bad).is_err(), "{bad}");
        }
        assert_eq!(Cpus::new("2").unwrap().to_string(), "2");
        assert_eq!(Cpus::new("1.25").unwrap().to_string(), "1.25");
        assert!(Cpus::new("nan").is_err() && Cpus::new("-1").is_err());
    }

    #[test]
    fn bounded_numbers_name_themselves_and_their_range() {
        let e = OomScoreAdj::new("-1001").unwrap_err();
        assert!(e.message().contains("OOM score adjustment"), "{e}");
        assert!(e.message().contains("-1000..=1000"), "{e}");
        let e = CpuQuota::new("abc").unwrap_err();
        assert!(e.message().contains("CPU quota"), "{e}");
        assert_eq!(BlkioWeight::from_value(10).unwrap().to_string(), "10");
    }
}
