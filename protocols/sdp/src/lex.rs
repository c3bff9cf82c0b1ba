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
        self.rest.trim_start_matches([' ', '\t'])
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest.trim_start_matches([' ', '\t']);
        if s.is_empty() {
            self.rest = s;
            return None;
        }
        let end = s.find([' ', '\t']).unwrap_or(s.len());
        let (tok, rest) = s.split_at(end);
        self.rest = rest;
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
    fn tokens_skip_runs_of_blanks() {
        let t: Vec<_> = Tokens::new("  a b\t\tc  ").collect();
        assert_eq!(t, ["a", "b", "c"]);
        let mut t = Tokens::new("x  rest of it");
        t.next();
        assert_eq!(t.remainder(), "rest of it");
    }
}
