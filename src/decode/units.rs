//! Human-readable sizes and percentages as the engines print them in
//! `stats`, `system df` and `history`.
//!
//! docker mixes two unit systems in one line: memory in binary units
//! (`316KiB / 64MiB`), network and block I/O and disk sizes in decimal ones
//! (`746B / 0B`, `8.19kB`, `1.984MB`); podman prints decimal units only
//! (`254kB / 67.11MB`). Both round to three or four significant digits, so a
//! byte count read back from them is approximate.

/// Bytes for a size such as `746B`, `8.19kB`, `316KiB`, `1.984MB`, `23.54GiB`
/// (decimal `kB MB GB TB PB`, binary `KiB MiB GiB TiB PiB`, case of the
/// unit's first letter ignored, optional space); `None` for anything else.
///
/// ```
/// use dockhand::decode::units::parse_size;
/// assert_eq!(parse_size("746B"), Some(746));
/// assert_eq!(parse_size("8.19kB"), Some(8190));
/// assert_eq!(parse_size("316KiB"), Some(316 * 1024));
/// assert_eq!(parse_size("1.5 GB"), Some(1_500_000_000));
/// assert_eq!(parse_size("0"), Some(0));
/// assert_eq!(parse_size("lots"), None);
/// ```
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor: f64 = match unit.trim() {
        "" | "B" | "b" => 1.0,
        u => {
            let (prefix, rest) = u.split_at(u.chars().next()?.len_utf8());
            let power = match prefix.to_ascii_lowercase().as_str() {
                "k" => 1,
                "m" => 2,
                "g" => 3,
                "t" => 4,
                "p" => 5,
                _ => return None,
            };
            let base: f64 = match rest {
                "B" | "b" | "" => 1000.0,
                "iB" | "ib" => 1024.0,
                _ => return None,
            };
            base.powi(power)
        }
    };
    let bytes = (number * factor).round();
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// Both sizes of a `USED / LIMIT` or `IN / OUT` pair.
///
/// ```
/// use dockhand::decode::units::parse_size_pair;
/// assert_eq!(parse_size_pair("316KiB / 64MiB"), Some((316 * 1024, 64 << 20)));
/// assert_eq!(parse_size_pair("0B / 0B"), Some((0, 0)));
/// assert_eq!(parse_size_pair("--"), None);
/// ```
pub fn parse_size_pair(text: &str) -> Option<(u64, u64)> {
    let (a, b) = text.split_once('/')?;
    Some((parse_size(a)?, parse_size(b)?))
}

/// The number of a percentage such as `0.48%` or `12 %`.
///
/// ```
/// assert_eq!(dockhand::decode::units::parse_percent("0.48%"), Some(0.48));
/// assert_eq!(dockhand::decode::units::parse_percent("--"), None);
/// ```
pub fn parse_percent(text: &str) -> Option<f64> {
    let n: f64 = text.trim().trim_end_matches('%').trim().parse().ok()?;
    n.is_finite().then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_of_both_engines() {
        assert_eq!(parse_size("23.54GiB"), Some(25_275_882_537));
        assert_eq!(parse_size("67.11MB"), Some(67_110_000));
        assert_eq!(parse_size("1.816kB"), Some(1816));
        assert_eq!(parse_size("75B"), Some(75));
        assert_eq!(parse_size("144.7kB"), Some(144_700));
        assert_eq!(parse_size("2KB"), Some(2000));
        for bad in ["", "kB", "1.2.3MB", "-1B", "1XB", "1Mx", "1e400GB", "€"] {
            assert_eq!(parse_size(bad), None, "{bad:?}");
        }
    }
}
