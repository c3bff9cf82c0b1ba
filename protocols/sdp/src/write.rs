//! Writing without `format_args!`: pieces are appended with `write_str`
//! and integers with `itoa`, which makes writing a description several
//! times cheaper than `write!` (BENCHMARKS.md).

use std::borrow::Cow;
use std::fmt;

/// Something that can be appended to a formatter.
pub(crate) trait Piece {
    fn put(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

impl Piece for &str {
    #[inline]
    fn put(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl Piece for Cow<'_, str> {
    #[inline]
    fn put(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl Piece for char {
    #[inline]
    fn put(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Write::write_char(f, *self)
    }
}

macro_rules! integer_piece {
    ($($t:ty),*) => {$(
        impl Piece for $t {
            #[inline]
            fn put(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(itoa::Buffer::new().format(*self))
            }
        }
    )*};
}
integer_piece!(u8, u16, u32, u64, usize);

/// Appends every piece in order: `w!(f, "a=", name, ":", 5u32)`.
macro_rules! w {
    ($f:expr, $($piece:expr),+ $(,)?) => {{
        use $crate::write::Piece as _;
        (|| -> ::std::fmt::Result { $( ($piece).put($f)?; )+ Ok(()) })()
    }};
}
pub(crate) use w;

/// Model types append themselves through their `Display`.
macro_rules! display_piece {
    ($($t:ty),*) => {$(
        impl Piece for $t {
            #[inline]
            fn put(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
    )*};
}
display_piece!(
    crate::Candidate<'_>,
    crate::Address<'_>,
    crate::Origin<'_>,
    crate::Connection<'_>,
    crate::MediaLine<'_>,
    crate::Line<'_>,
    crate::Attribute<'_>
);
