//! Small lexical helpers shared by the line and attribute parsers.

use crate::FieldError;

/// Parses an unsigned decimal integer made of ASCII digits only (no sign, no spaces).
#[inline]
pub(crate) fn parse_u64(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    let mut n: u64 = 0;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(n)
}

/// Parses a decimal integer into `T`, or reports `field` as invalid.
#[inline]
pub(crate) fn int<T: TryFrom<u64>>(
    s: &str,
    field: &'static str,
    expected: &'static str,
) -> Result<T, FieldError> {
    parse_u64(s).and_then(|n| T::try_from(n).ok()).ok_or_else(|| FieldError::new(field, expected, s))
}

/// Splits on runs of spaces (and tabs), never yielding empty tokens.
#[derive(Clone)]
pub(crate) struct Tokens<'a> {
    rest: &'a str,
}

#[inline]
fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// Sets the high bit of each zero byte of `x` (exact for the lowest zero byte,
/// which is the only one the callers look at).
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// The index of the first byte of `b` for which `hits` (a word-at-a-time
/// test) or `is_hit` (the same test on one byte) holds, eight bytes at a time.
#[inline(always)]
fn find_swar(b: &[u8], hits: impl Fn(u64) -> u64, is_hit: impl Fn(u8) -> bool) -> Option<usize> {
    let mut chunks = b.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let h = hits(word);
        if h != 0 {
            return Some(offset + (h.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks.remainder().iter().position(|&c| is_hit(c)).map(|i| offset + i)
}

/// The index of the first blank (space or tab) in `b`.
#[inline]
pub(crate) fn find_blank(b: &[u8]) -> Option<usize> {
    const SPACES: u64 = u64::from_ne_bytes([b' '; 8]);
    const TABS: u64 = u64::from_ne_bytes([b'\t'; 8]);
    find_swar(b, |w| zero_bytes(w ^ SPACES) | zero_bytes(w ^ TABS), is_blank)
}

/// The index of the first `needle` in `b` (for short haystacks, where memchr's set-up costs more).
#[inline]
pub(crate) fn find_byte(b: &[u8], needle: u8) -> Option<usize> {
    let pattern = u64::from_ne_bytes([needle; 8]);
    find_swar(b, |w| zero_bytes(w ^ pattern), |c| c == needle)
}

/// `s` without leading blanks (spaces and tabs).
#[inline]
pub(crate) fn trim_start_blanks(s: &str) -> &str {
    let n = s.bytes().take_while(|&b| is_blank(b)).count();
    // Blanks are ASCII, so `n` is a char boundary.
    &s[n..]
}

/// `s` without trailing blanks and carriage returns.
#[inline]
pub(crate) fn trim_end_blanks(s: &str) -> &str {
    let n = s.bytes().rev().take_while(|&b| is_blank(b) || b == b'\r').count();
    &s[..s.len() - n]
}

/// Splits `s` at its first blank: the part before, and the rest after the blank run.
#[inline]
pub(crate) fn split_blank(s: &str) -> (&str, &str) {
    match find_blank(s.as_bytes()) {
        // Blanks are ASCII: `i` and `i + 1` are char boundaries.
        Some(i) => (&s[..i], trim_start_blanks(&s[i + 1..])),
        None => (s, ""),
    }
}

/// Splits `s` at the first `sep` byte (an ASCII character): before, and after if found.
#[inline]
pub(crate) fn split_byte(s: &str, sep: u8) -> (&str, Option<&str>) {
    match find_byte(s.as_bytes(), sep) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    }
}

impl<'a> Tokens<'a> {
    #[inline]
    pub(crate) fn new(s: &'a str) -> Self {
        Tokens { rest: s }
    }

    /// The next token, or a "missing field" error.
    #[inline]
    pub(crate) fn expect(
        &mut self,
        field: &'static str,
        expected: &'static str,
    ) -> Result<&'a str, FieldError> {
        self.next().ok_or_else(|| FieldError::new(field, expected, ""))
    }

    /// What is left after the tokens consumed so far, with leading blanks removed.
    #[inline]
    pub(crate) fn remainder(&self) -> &'a str {
        trim_start_blanks(self.rest)
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = &'a str;

    #[inline(always)]
    fn next(&mut self) -> Option<&'a str> {
        let b = self.rest.as_bytes();
        let mut i = 0;
        while i < b.len() && is_blank(b[i]) {
            i += 1;
        }
        if i == b.len() {
            self.rest = "";
            return None;
        }
        let start = i;
        let i = start + find_blank(&b[start..]).unwrap_or(b.len() - start);
        // `start` and `i` border ASCII blanks or the ends: char boundaries.
        let tok = &self.rest[start..i];
        self.rest = &self.rest[i..];
        Some(tok)
    }
}

/// True if `s` is a non-empty token without blanks or control characters.
#[inline]
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b > b' ' && b != 0x7f)
}

/// Checks that `s` is a non-empty token (no blanks).
#[inline]
pub(crate) fn token<'a>(
    s: &'a str,
    field: &'static str,
    expected: &'static str,
) -> Result<&'a str, FieldError> {
    if is_token(s) { Ok(s) } else { Err(FieldError::new(field, expected, s)) }
}

/// Checks that nothing is left in `tokens`.
#[inline]
pub(crate) fn end(tokens: &mut Tokens<'_>, field: &'static str) -> Result<(), FieldError> {
    match tokens.next() {
        None => Ok(()),
        Some(extra) => Err(FieldError::new(field, "end of line", extra)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_u64_rejects_signs_blanks_and_overflow() {
        assert_eq!(parse_u64("0"), Some(0));
        assert_eq!(parse_u64("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64("18446744073709551616"), None);
        assert_eq!(parse_u64("+1"), None);
        assert_eq!(parse_u64(""), None);
        assert_eq!(parse_u64(" 1"), None);
    }

    #[test]
    fn find_blank_finds_the_first_blank_at_any_offset() {
        for len in 0..40 {
            for pos in 0..len {
                for blank in [b' ', b'\t'] {
                    let mut v = vec![b'x'; len];
                    v[pos] = blank;
                    if pos + 1 < len {
                        v[pos + 1] = b' ';
                    }
                    assert_eq!(find_blank(&v), Some(pos), "len {len} pos {pos}");
                }
            }
            assert_eq!(find_blank(&vec![b'x'; len]), None);
        }
        // Bytes just above and below the blanks, and high bytes, must not match.
        assert_eq!(find_blank(b"\x1f\x21\x08\x0a\xff\x80\xa0\x89!!!!"), None);
        assert_eq!(find_byte(b"abcdefghijk:lm:", b':'), Some(11));
        assert_eq!(find_byte(b"\xba\x3b\x39", b':'), None);
    }

    #[test]
    fn tokens_skip_runs_of_blanks() {
        let t: Vec<_> = Tokens::new("  a b\t\tc  ").collect();
        assert_eq!(t, ["a", "b", "c"]);
        let mut t = Tokens::new("x  rest of it");
        t.next();
        assert_eq!(t.remainder(), "rest of it");
    }
}
