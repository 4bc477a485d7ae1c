//! Streamed engine output cut into lines, in bounded memory.
//!
//! [`LineDecoder`] is a push parser: feed it bytes in whatever pieces a pipe
//! delivers, get complete lines back. It never holds more than one line (at
//! most `max_line` bytes) plus a few bytes of look-ahead, however long the
//! stream or the line: a longer line is handed out in `max_line` pieces
//! marked `complete: false`.
//!
//! With timestamps on, it also understands the prefix `docker/podman logs
//! --timestamps` puts on every line, and removes the extra timestamps the
//! engines put *inside* a line that they stored in parts: docker cuts lines
//! into 16 KiB parts, podman (conmon) stores every write as its own part, and
//! both print each part with its own timestamp but no newline
//! (vendor-docs/captures/*/logs-long-line-timestamps, logs-partial-writes-timestamps).

use crate::decode::time::{Timestamp, RFC3339_MAX_LEN};

/// Where an engine puts the timestamps of the later parts of a line it
/// stored in parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartStamps {
    /// After every this many bytes of the line (docker: 16384).
    EveryChunk(usize),
    /// After any write of the program, so anywhere. A timestamp inside a line
    /// is taken for a part boundary only in the engine's exact fixed-width
    /// form (nine fraction digits) and when it is not earlier than the
    /// line's own timestamp.
    AnyWrite,
}

/// One line (or one `max_line` piece of a longer line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The engine's timestamp of the line (timestamps on, and the line had one).
    pub time: Option<Timestamp>,
    /// The bytes, without the newline and without engine timestamps.
    pub bytes: Vec<u8>,
    /// False when the line was not ended by a newline: it was cut at
    /// `max_line`, or the stream ended in the middle of it.
    pub complete: bool,
}

/// A push parser from bytes to [`Line`]s; see the module documentation.
///
/// ```
/// use dockhand::decode::lines::{LineDecoder, PartStamps};
/// let mut d = LineDecoder::new(Some(PartStamps::EveryChunk(16384)), 1024);
/// let mut out = Vec::new();
/// d.push(b"2026-11-23T17:03:15.312769009Z out1\n2026-11-23T17:03:15.3", &mut out);
/// d.push(b"39414340Z no-newline-at-end", &mut out);
/// d.finish(&mut out);
/// assert_eq!(out[0].bytes, b"out1");
/// assert_eq!(out[0].time.unwrap().to_string(), "2026-11-23T17:03:15.312769009Z");
/// assert_eq!((out[1].bytes.as_slice(), out[1].complete), (&b"no-newline-at-end"[..], false));
/// ```
#[derive(Debug, Clone)]
pub struct LineDecoder {
    stamps: Option<PartStamps>,
    max_line: usize,
    /// Buffers of lines handed back ([`LineDecoder::recycle`]), filled again
    /// instead of allocating one per line.
    spare: Vec<Vec<u8>>,
    /// Input kept back because it may be the start of a timestamp.
    held: Vec<u8>,
    /// The current line (or piece) so far.
    line: Vec<u8>,
    time: Option<Timestamp>,
    /// The next byte starts a new line.
    at_start: bool,
    /// Bytes of the current line seen so far, across `max_line` pieces.
    line_len: usize,
    /// Bytes of the line since its last timestamp (for `EveryChunk`).
    since_stamp: usize,
    /// A piece of the current line was already handed out.
    split: bool,
}

/// What the bytes at some position hold.
enum Prefix {
    Stamp(Timestamp, usize),
    Not,
    /// Too few bytes to tell yet.
    Undecided,
}

impl LineDecoder {
    /// A decoder; `stamps` is `Some` when every line starts with an engine
    /// timestamp and a space, saying where the engine puts part timestamps.
    /// `max_line` (at least 1) bounds the bytes of one [`Line`].
    pub fn new(stamps: Option<PartStamps>, max_line: usize) -> LineDecoder {
        LineDecoder {
            stamps,
            max_line: max_line.max(1),
            spare: Vec::new(),
            held: Vec::new(),
            line: Vec::new(),
            time: None,
            at_start: true,
            line_len: 0,
            since_stamp: 0,
            split: false,
        }
    }

    /// Feed the next bytes; complete lines are appended to `out`.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<Line>) {
        if self.held.is_empty() {
            self.decode(input, false, out);
        } else {
            let mut data = std::mem::take(&mut self.held);
            data.extend_from_slice(input);
            self.decode(&data, false, out);
        }
    }

    /// Hand back the bytes of a [`Line`] that is done with: a later line is
    /// copied into them instead of into a new allocation. Kept while there
    /// are fewer than [`SPARE_LINES`] and the buffer is at most
    /// [`SPARE_CAPACITY`] bytes, so at most 256 KiB wait here.
    ///
    /// ```
    /// use dockhand::decode::lines::LineDecoder;
    /// let mut d = LineDecoder::new(None, 1024);
    /// let (mut first, mut second) = (Vec::new(), Vec::new());
    /// d.push(b"one\n", &mut first);
    /// let buffer = first.remove(0).bytes;
    /// let at = buffer.as_ptr();
    /// d.recycle(buffer);
    /// d.push(b"two\n", &mut second);
    /// assert_eq!((second[0].bytes.as_slice(), second[0].bytes.as_ptr()), (&b"two"[..], at));
    /// ```
    pub fn recycle(&mut self, mut bytes: Vec<u8>) {
        if self.spare.len() < SPARE_LINES && bytes.capacity() <= SPARE_CAPACITY {
            bytes.clear();
            self.spare.push(bytes);
        }
    }

    /// The stream ended: hand out what is left (a last line without newline).
    pub fn finish(&mut self, out: &mut Vec<Line>) {
        let data = std::mem::take(&mut self.held);
        self.decode(&data, true, out);
        if !self.at_start && (!self.line.is_empty() || !self.split) {
            self.emit(false, out);
        }
        self.at_start = true;
    }

    fn decode(&mut self, data: &[u8], eof: bool, out: &mut Vec<Line>) {
        let mut i = 0;
        while i < data.len() {
            if self.at_start {
                self.at_start = false;
                self.line_len = 0;
                self.since_stamp = 0;
                self.split = false;
                self.time = None;
                if self.stamps.is_some() {
                    match prefix(&data[i..], false, eof) {
                        Prefix::Undecided => {
                            self.at_start = true;
                            self.held = data[i..].to_vec();
                            return;
                        }
                        Prefix::Stamp(t, n) => {
                            self.time = Some(t);
                            i += n;
                        }
                        // Not from the container (an engine message): no time.
                        Prefix::Not => {}
                    }
                }
                continue;
            }
            let rest = &data[i..];
            if self.line.len() == self.max_line {
                // A full piece goes out once we know whether the line ends here.
                if rest[0] == b'\n' {
                    self.emit(true, out);
                    self.at_start = true;
                    i += 1;
                    continue;
                }
                self.emit(false, out);
                self.split = true;
            }
            let room = self.max_line - self.line.len();
            let end = rest.len().min(room);
            let mut j = 0;
            let mut rescan = false;
            while j < end {
                j = self.next_to_look_at(rest, j, end);
                if j == end {
                    break;
                }
                if rest[j] == b'\n' && self.line.is_empty() {
                    // The whole line is in this read: one copy, straight out.
                    out.push(Line {
                        time: self.time,
                        bytes: filled(&mut self.spare, &rest[..j]),
                        complete: true,
                    });
                    self.at_start = true;
                    i += j + 1;
                    rescan = true;
                    break;
                }
                if rest[j] == b'\n' {
                    self.take(&rest[..j]);
                    self.emit(true, out);
                    self.at_start = true;
                    i += j + 1;
                    rescan = true;
                    break;
                }
                if self.part_stamp_may_start(rest, j) {
                    match prefix(&rest[j..], true, eof) {
                        Prefix::Stamp(t, n) if !matches!(self.time, Some(line_t) if t < line_t) => {
                            self.take(&rest[..j]);
                            self.since_stamp = 0;
                            i += j + n;
                            rescan = true;
                            break;
                        }
                        Prefix::Undecided => {
                            self.take(&rest[..j]);
                            self.held = rest[j..].to_vec();
                            return;
                        }
                        _ => {}
                    }
                }
                j += 1;
            }
            if rescan {
                continue;
            }
            self.take(&rest[..end]);
            i += end;
        }
    }

    /// The first index from `j` (below `end`, else `end`) where `rest` holds
    /// a newline or may hold a part timestamp: the bytes in between are
    /// taken as they are, without looking at each (the loop over every byte
    /// was a sixth of `logs --json`).
    fn next_to_look_at(&self, rest: &[u8], j: usize, end: usize) -> usize {
        let newline =
            |to: usize| super::words::find_byte(&rest[j..to], b'\n').map_or(to, |k| j + k);
        match self.stamps {
            None => newline(end),
            Some(PartStamps::EveryChunk(size)) => match size.checked_sub(self.since_stamp) {
                Some(at) if (j..end).contains(&at) => newline(at),
                _ => newline(end),
            },
            Some(PartStamps::AnyWrite) => rest[j..end]
                .iter()
                .position(|&b| b == b'\n' || b.is_ascii_digit())
                .map_or(end, |k| j + k),
        }
    }

    /// Whether an engine part timestamp may start at `rest[j]`.
    fn part_stamp_may_start(&self, rest: &[u8], j: usize) -> bool {
        match self.stamps {
            Some(PartStamps::EveryChunk(size)) => self.since_stamp + j == size,
            // Four digits of a year and a dash (or too few bytes to tell):
            // the digits of a line's text mostly fail here, before a parse.
            Some(PartStamps::AnyWrite) => {
                self.line_len + j > 0
                    && rest[j].is_ascii_digit()
                    && rest.get(j + 4).is_none_or(|&b| b == b'-')
            }
            None => false,
        }
    }

    fn take(&mut self, bytes: &[u8]) {
        self.line.extend_from_slice(bytes);
        self.line_len += bytes.len();
        self.since_stamp += bytes.len();
    }

    fn emit(&mut self, complete: bool, out: &mut Vec<Line>) {
        // A copy; the buffer stays for the next line (taking it made every
        // line grow a new one: 4–5 reallocations).
        out.push(Line {
            time: self.time,
            bytes: filled(&mut self.spare, &self.line),
            complete,
        });
        self.line.clear();
    }
}

/// How many handed-back line buffers a [`LineDecoder`] keeps: a read of
/// [`READ_CHUNK`](crate::exec::READ_CHUNK) bytes holds about a hundred
/// lines of a busy log, all decoded before the first is used.
pub const SPARE_LINES: usize = 256;
/// The largest handed-back buffer a [`LineDecoder`] keeps, in bytes.
pub const SPARE_CAPACITY: usize = 1024;

/// A copy of `bytes` in a spare buffer, or a new one.
fn filled(spare: &mut Vec<Vec<u8>>, bytes: &[u8]) -> Vec<u8> {
    match spare.pop() {
        Some(mut buffer) => {
            buffer.extend_from_slice(bytes);
            buffer
        }
        None => bytes.to_vec(),
    }
}

/// Whether `bytes` starts with an engine timestamp and a space.
fn prefix(bytes: &[u8], nine_digits: bool, eof: bool) -> Prefix {
    match Timestamp::parse_rfc3339_prefix(bytes, nine_digits) {
        Some((t, n)) if bytes.get(n) == Some(&b' ') => Prefix::Stamp(t, n + 1),
        // `…Z` at the very end: the space may still come.
        Some((_, n)) if n == bytes.len() && !eof => Prefix::Undecided,
        Some(_) => Prefix::Not,
        None if !eof && bytes.len() <= RFC3339_MAX_LEN && could_become_stamp(bytes) => {
            Prefix::Undecided
        }
        None => Prefix::Not,
    }
}

/// Whether `bytes` (shorter than a timestamp) could still grow into one:
/// digits where digits go, separators where they go.
fn could_become_stamp(bytes: &[u8]) -> bool {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:dd";
    bytes.iter().enumerate().all(|(i, &b)| match SHAPE.get(i) {
        Some(b'd') => b.is_ascii_digit(),
        // What Timestamp::parse_rfc3339_prefix accepts there, no less: a
        // narrower guess decided differently depending on where a read
        // ended (found by fuzzing).
        Some(b'T') => b"Tt ".contains(&b),
        Some(&sep) => b == sep,
        // After the seconds: fraction, zone, offset.
        None => b.is_ascii_digit() || b".Zz+-:".contains(&b),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::capture;

    /// Decode `data` fed in pieces of `step` bytes.
    fn decode(stamps: Option<PartStamps>, max: usize, data: &[u8], step: usize) -> Vec<Line> {
        let mut d = LineDecoder::new(stamps, max);
        let mut out = Vec::new();
        for piece in data.chunks(step.max(1)) {
            d.push(piece, &mut out);
        }
        d.finish(&mut out);
        out
    }

    fn texts(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| String::from_utf8_lossy(&l.bytes).into_owned())
            .collect()
    }

    #[test]
    fn every_stamp_form_the_parser_accepts_survives_a_cut_inside_it() {
        // Regression (fuzzing): a read ending right after the space or `t`
        // between date and time, or after a lower-case `z`, made the line
        // lose its timestamp, which the same bytes in one read kept.
        for data in [
            &b"2026-11-23 17:03:15.312769009Z out1\n"[..],
            b"2026-11-23t17:03:15.312769009Z out1\n",
            b"2026-11-23T17:03:15.312769009z out1\n",
        ] {
            let whole = decode(Some(PartStamps::AnyWrite), 1, data, data.len());
            assert!(whole[0].time.is_some());
            for step in 1..data.len() {
                assert_eq!(
                    decode(Some(PartStamps::AnyWrite), 1, data, step),
                    whole,
                    "{step}"
                );
            }
        }
    }

    #[test]
    fn captured_timestamped_logs_decode_the_same_in_any_piece_size() {
        for (engine, stamps) in [
            ("docker", PartStamps::EveryChunk(16384)),
            ("podman", PartStamps::AnyWrite),
        ] {
            let data = capture(&format!("{engine}/logs-timestamps.stdout.txt"));
            for step in [1, 2, 7, 31, 4096] {
                let lines = decode(Some(stamps), 1 << 20, &data, step);
                assert_eq!(
                    texts(&lines),
                    ["out1", "out2", "no-newline-at-end"],
                    "{engine} {step}"
                );
                assert!(lines.iter().all(|l| l.time.is_some()));
                assert_eq!(
                    lines.iter().map(|l| l.complete).collect::<Vec<_>>(),
                    [true, true, false]
                );
            }
        }
    }

    #[test]
    fn part_timestamps_inside_long_and_partially_written_lines_are_removed() {
        for (engine, stamps) in [
            ("docker", PartStamps::EveryChunk(16384)),
            ("podman", PartStamps::AnyWrite),
        ] {
            let long = capture(&format!("{engine}/logs-long-line-timestamps.stdout.txt"));
            for step in [1000, 16415, 65536] {
                let lines = decode(Some(stamps), 1 << 20, &long, step);
                assert_eq!(lines.len(), 2, "{engine}");
                assert_eq!(lines[0].bytes, vec![b'a'; 40000], "{engine} {step}");
                assert_eq!(lines[1].bytes, b"after");
            }
            let partial = capture(&format!(
                "{engine}/logs-partial-writes-timestamps.stdout.txt"
            ));
            let plain = capture(&format!("{engine}/logs-partial-writes.stdout.txt"));
            for step in [1, 5, 4096] {
                let lines = decode(Some(stamps), 1 << 20, &partial, step);
                assert_eq!(texts(&lines), ["abcdef", "xz"], "{engine} {step}");
                let plain_lines = decode(None, 1 << 20, &plain, step);
                assert_eq!(texts(&plain_lines), ["abcdef", "xz"]);
            }
        }
    }

    #[test]
    fn a_timestamp_the_program_printed_itself_is_kept() {
        let data = b"2026-11-23T17:03:15.312769009Z 2026-11-23T17:03:15.000000000Z app start\n\
                     2026-11-23T17:03:16.000000000Z at 2026-01-01T00:00:00.000000000Z done\n";
        let lines = decode(Some(PartStamps::AnyWrite), 1024, data, 3);
        assert_eq!(
            texts(&lines),
            [
                "2026-11-23T17:03:15.000000000Z app start",
                "at 2026-01-01T00:00:00.000000000Z done"
            ]
        );
    }

    #[test]
    fn long_lines_come_in_bounded_pieces_and_memory_stays_bounded() {
        let mut d = LineDecoder::new(None, 10);
        let mut out = Vec::new();
        for _ in 0..1000 {
            d.push(&[b'x'; 999], &mut out);
            assert!(d.line.capacity() <= 1024 && d.held.is_empty());
        }
        d.push(b"\nend", &mut out);
        d.finish(&mut out);
        let total: usize = out.iter().map(|l| l.bytes.len()).sum();
        assert_eq!(total, 999_000 + 3);
        assert!(out.iter().all(|l| l.bytes.len() <= 10));
        let complete: Vec<_> = out.iter().filter(|l| l.complete).collect();
        assert_eq!(
            complete.len(),
            1,
            "only the piece before the newline ends the line"
        );
        assert_eq!(out.last().unwrap().bytes, b"end");
    }

    #[test]
    fn bytes_that_are_not_utf8_pass_through_untouched() {
        let data = capture("podman/logs-non-utf8-timestamps.stdout.txt");
        let lines = decode(Some(PartStamps::AnyWrite), 1024, &data, 1);
        assert_eq!(lines[0].bytes, b"a\xffb");
        assert_eq!(lines[1].bytes, b"nonl");
    }

    #[test]
    fn lines_without_a_timestamp_have_none_and_empty_lines_survive() {
        let lines = decode(
            Some(PartStamps::EveryChunk(16384)),
            1024,
            b"Error: no such container\n2026-11-23T17:03:15.312769009Z \n",
            4,
        );
        assert_eq!(texts(&lines), ["Error: no such container", ""]);
        assert!(lines[0].time.is_none() && lines[1].time.is_some());
    }
}
