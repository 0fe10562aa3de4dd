//! Incremental parsing over byte slices: a complete value, "need more bytes", or a typed error.

pub use parse_outcome::Parse;

/// Why an internal parsing step stopped: the input ended early, or it is invalid.
#[derive(Debug)]
pub(crate) enum Stop<E> {
    Incomplete,
    Invalid(E),
}

impl<E> Stop<E> {
    /// Converts the invalid case into another error type, keeping `Incomplete` as is.
    pub(crate) fn map_invalid<F>(self, f: impl FnOnce(E) -> F) -> Stop<F> {
        match self {
            Stop::Incomplete => Stop::Incomplete,
            Stop::Invalid(e) => Stop::Invalid(f(e)),
        }
    }
}

/// Turns the result of a whole parse into the public shape.
pub(crate) fn finish<T, E>(result: Result<(T, usize), Stop<E>>) -> Result<Parse<T>, E> {
    match result {
        Ok((value, used)) => Ok(Parse::Done {
            value,
            consumed: used,
        }),
        Err(Stop::Incomplete) => Ok(Parse::NeedMore),
        Err(Stop::Invalid(e)) => Err(e),
    }
}

/// A read position in an input slice; every read either succeeds or reports `Incomplete`.
pub(crate) struct Reader<'a> {
    input: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Reader { input, position: 0 }
    }

    /// Bytes consumed so far.
    pub(crate) fn position(&self) -> usize {
        self.position
    }

    pub(crate) fn take<E>(&mut self, len: usize) -> Result<&'a [u8], Stop<E>> {
        let end = self.position.checked_add(len).ok_or(Stop::Incomplete)?;
        let bytes = self.input.get(self.position..end).ok_or(Stop::Incomplete)?;
        self.position = end;
        Ok(bytes)
    }

    pub(crate) fn array<const N: usize, E>(&mut self) -> Result<[u8; N], Stop<E>> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(crate) fn u8<E>(&mut self) -> Result<u8, Stop<E>> {
        Ok(self.array::<1, E>()?[0])
    }

    pub(crate) fn u16<E>(&mut self) -> Result<u16, Stop<E>> {
        Ok(u16::from_be_bytes(self.array()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_past_the_end_is_incomplete_and_consumes_nothing() {
        let mut reader = Reader::new(&[1, 2, 3]);
        assert_eq!(reader.u16::<()>().ok(), Some(0x0102));
        assert!(matches!(reader.u16::<()>(), Err(Stop::Incomplete)));
        assert_eq!(reader.position(), 2);
    }

    #[test]
    fn finish_maps_incomplete_to_need_more() {
        let r: Result<(u8, usize), Stop<()>> = Err(Stop::Incomplete);
        assert_eq!(finish(r), Ok(Parse::NeedMore));
    }
}
