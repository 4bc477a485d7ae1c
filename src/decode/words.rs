//! Looking at bytes eight at a time (a `u64` word), for the per-line hot
//! paths of `logs`: finding a newline, finding what needs a JSON escape.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` that is below `n` (n ≤ 128) may be
/// set; the lowest such bit is always a true one, and a word with none has
/// no byte below `n` (the classic bit trick: higher bytes can be flagged
/// falsely only above a true one).
pub(crate) fn below(word: u64, n: u8) -> u64 {
    word.wrapping_sub(ONES * u64::from(n)) & !word & HIGH
}

/// `word` with every byte XORed with `b`: the bytes equal to `b` become 0.
pub(crate) fn xor_each(word: u64, b: u8) -> u64 {
    word ^ (ONES * u64::from(b))
}

/// The index of the first `needle` in `bytes`, word by word (what
/// `iter().position` gives, at a fraction of the instructions).
pub(crate) fn find_byte(bytes: &[u8], needle: u8) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let found = below(xor_each(word, needle), 1);
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == needle)
        .map(|k| at + k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_byte_is_position_for_every_place_and_length() {
        for len in 0..40 {
            for at in 0..=len {
                let mut bytes: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
                if at < len {
                    bytes[at] = b'\n';
                    // A second one later, and bytes around the needle's value.
                    if at + 9 < len {
                        bytes[at + 9] = b'\n';
                    }
                }
                bytes
                    .iter_mut()
                    .filter(|b| **b != b'\n')
                    .take(3)
                    .for_each(|b| *b = 0x0b);
                let want = bytes.iter().position(|&b| b == b'\n');
                assert_eq!(find_byte(&bytes, b'\n'), want, "{bytes:?}");
            }
        }
        let high: Vec<u8> = (0u8..=255).rev().collect();
        assert_eq!(find_byte(&high, b'\n'), Some(255 - 10));
    }
}
