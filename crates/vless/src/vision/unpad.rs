//! The receiving side of Vision padding: strips frames and reports when padding ends.
//!
//! Mirrors Xray-core's `XtlsUnpadding`, but as a byte-at-a-time state machine, so how the
//! stream is split into reads never changes the result. One difference: Xray-core decides
//! per read buffer whether the stream starts with the user id; here, once the first bytes
//! differ from the id, the whole stream is taken as unpadded.

use super::frame::{COMMAND_CONTINUE, COMMAND_DIRECT, COMMAND_END, HEADER_LEN};

/// Where the reading side stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReadMode {
    /// Still inside padding frames.
    Padded,
    /// Padding ended (or never started): bytes pass through unchanged, still inside the TLS.
    Plain,
    /// The peer switched to direct copy: bytes after the last frame, and everything the outer
    /// TLS layer has received but not yet decrypted, are raw inner traffic; read the socket
    /// directly from now on.
    Direct,
}

/// A frame's command byte is none of continue, end, direct.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown Vision padding command {0}")]
pub struct UnknownCommand(pub u8);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Matching the user id; `matched` bytes of it seen so far.
    User {
        matched: usize,
    },
    /// Reading the five header bytes; `have` of them read into `header`.
    Header {
        have: usize,
        header: [u8; HEADER_LEN],
    },
    Content {
        command: u8,
        content: usize,
        padding: usize,
    },
    Padding {
        command: u8,
        padding: usize,
    },
    Plain,
    Direct,
}

/// Strips Vision padding frames from one direction of a connection.
#[derive(Debug, Clone)]
pub struct Unpadder {
    user: [u8; 16],
    state: State,
}

impl Unpadder {
    /// `user` is the id as the client sent it in the request header.
    pub fn new(user: [u8; 16]) -> Self {
        Unpadder {
            user,
            state: State::User { matched: 0 },
        }
    }

    /// The current mode.
    pub fn mode(&self) -> ReadMode {
        match self.state {
            State::Plain => ReadMode::Plain,
            State::Direct => ReadMode::Direct,
            _ => ReadMode::Padded,
        }
    }

    /// Consumes `input`, appending the content it carries to `out`.
    pub fn feed(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<ReadMode, UnknownCommand> {
        while !input.is_empty() {
            match &mut self.state {
                State::Plain | State::Direct => {
                    out.extend_from_slice(input);
                    input = &[];
                }
                State::User { matched } => {
                    let want = &self.user[*matched..];
                    let n = want.len().min(input.len());
                    if input[..n] != want[..n] {
                        // Not padded after all: hand back the id bytes held so far, then the rest.
                        out.extend_from_slice(&self.user[..*matched]);
                        self.state = State::Plain;
                        continue;
                    }
                    *matched += n;
                    input = &input[n..];
                    if *matched == self.user.len() {
                        self.state = State::Header {
                            have: 0,
                            header: [0; HEADER_LEN],
                        };
                    }
                }
                State::Header { have, header } => {
                    let n = (HEADER_LEN - *have).min(input.len());
                    header[*have..*have + n].copy_from_slice(&input[..n]);
                    *have += n;
                    input = &input[n..];
                    if *have == HEADER_LEN {
                        let command = header[0];
                        let content = usize::from(u16::from_be_bytes([header[1], header[2]]));
                        let padding = usize::from(u16::from_be_bytes([header[3], header[4]]));
                        self.state = State::Content {
                            command,
                            content,
                            padding,
                        };
                        self.finish_block_if_done()?;
                    }
                }
                State::Content {
                    command,
                    content,
                    padding,
                } => {
                    let n = (*content).min(input.len());
                    out.extend_from_slice(&input[..n]);
                    input = &input[n..];
                    *content -= n;
                    if *content == 0 {
                        self.state = State::Padding {
                            command: *command,
                            padding: *padding,
                        };
                    }
                    self.finish_block_if_done()?;
                }
                State::Padding { padding, .. } => {
                    let n = (*padding).min(input.len());
                    input = &input[n..];
                    *padding -= n;
                    self.finish_block_if_done()?;
                }
            }
        }
        Ok(self.mode())
    }

    /// After a block's content and padding are consumed, its command decides what follows.
    fn finish_block_if_done(&mut self) -> Result<(), UnknownCommand> {
        let command = match self.state {
            State::Content {
                command,
                content: 0,
                padding: 0,
            }
            | State::Padding {
                command,
                padding: 0,
            } => command,
            _ => return Ok(()),
        };
        self.state = match command {
            COMMAND_CONTINUE => State::Header {
                have: 0,
                header: [0; HEADER_LEN],
            },
            COMMAND_END => State::Plain,
            COMMAND_DIRECT => State::Direct,
            other => return Err(UnknownCommand(other)),
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::frame::{encode_frame, FrameCommand};
    use super::*;

    const USER: [u8; 16] = [7; 16];

    fn frames() -> Vec<u8> {
        let mut bytes = Vec::new();
        encode_frame(
            Some(&USER),
            FrameCommand::Continue,
            b"client hello",
            30,
            &mut bytes,
        )
        .unwrap();
        encode_frame(None, FrameCommand::Continue, b"", 5, &mut bytes).unwrap();
        encode_frame(None, FrameCommand::End, b"finished", 0, &mut bytes).unwrap();
        bytes.extend_from_slice(b"after");
        bytes
    }

    #[test]
    fn frames_are_stripped_and_bytes_after_the_end_pass_through() {
        let mut unpadder = Unpadder::new(USER);
        let mut out = Vec::new();
        assert_eq!(unpadder.feed(&frames(), &mut out), Ok(ReadMode::Plain));
        assert_eq!(out, b"client hellofinishedafter");
    }

    #[test]
    fn feeding_one_byte_at_a_time_gives_the_same_content() {
        let mut unpadder = Unpadder::new(USER);
        let mut out = Vec::new();
        let mut modes = Vec::new();
        for byte in frames() {
            modes.push(unpadder.feed(&[byte], &mut out).unwrap());
        }
        assert_eq!(out, b"client hellofinishedafter");
        assert_eq!(modes.first(), Some(&ReadMode::Padded));
        assert_eq!(modes.last(), Some(&ReadMode::Plain));
    }

    #[test]
    fn a_direct_command_switches_to_direct_and_keeps_the_tail() {
        let mut bytes = Vec::new();
        encode_frame(
            Some(&USER),
            FrameCommand::Direct,
            b"app data",
            3,
            &mut bytes,
        )
        .unwrap();
        bytes.extend_from_slice(b"raw");
        let mut unpadder = Unpadder::new(USER);
        let mut out = Vec::new();
        assert_eq!(unpadder.feed(&bytes, &mut out), Ok(ReadMode::Direct));
        assert_eq!(out, b"app dataraw");
    }

    #[test]
    fn a_stream_not_starting_with_the_user_id_is_plain() {
        let mut unpadder = Unpadder::new(USER);
        let mut out = Vec::new();
        assert_eq!(unpadder.feed(&[7, 7, 7], &mut out), Ok(ReadMode::Padded));
        assert_eq!(unpadder.feed(&[1, 2], &mut out), Ok(ReadMode::Plain));
        assert_eq!(out, [7, 7, 7, 1, 2]);
    }

    #[test]
    fn an_unknown_command_is_an_error() {
        let mut bytes = USER.to_vec();
        bytes.extend_from_slice(&[9, 0, 0, 0, 0]);
        let mut unpadder = Unpadder::new(USER);
        assert_eq!(
            unpadder.feed(&bytes, &mut Vec::new()),
            Err(UnknownCommand(9))
        );
    }
}
