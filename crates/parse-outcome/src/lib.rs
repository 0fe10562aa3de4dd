//! The one result every sans-I/O parser in milly returns: a complete value with the bytes it consumed, or "need more bytes".
#![no_std]

/// The outcome of parsing a prefix of a byte stream that may not have fully arrived yet.
///
/// `vless` and `reality` both return it (and re-export it), so every codec speaks alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parse<T> {
    /// A complete value that used the first `consumed` input bytes; the rest belongs to what
    /// follows.
    Done { value: T, consumed: usize },
    /// The input is a strict prefix of something that may still become valid: read more bytes
    /// and call again with the whole buffer.
    NeedMore,
}

impl<T> Parse<T> {
    /// Applies `f` to a complete value, keeping the consumed length.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Parse<U> {
        match self {
            Parse::Done { value, consumed } => Parse::Done {
                value: f(value),
                consumed,
            },
            Parse::NeedMore => Parse::NeedMore,
        }
    }

    /// Whether the value is complete.
    pub fn is_done(&self) -> bool {
        matches!(self, Parse::Done { .. })
    }
}
