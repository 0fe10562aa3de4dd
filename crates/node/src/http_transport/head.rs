//! An HTTP/1.1 request head, parsed by `httparse` (hyper's parser) into owned strings.

/// Most header lines accepted; a head with more is not one of our clients'.
const MAX_HEADERS: usize = 32;

pub(crate) struct RequestHead {
    pub(crate) method: String,
    pub(crate) path: String,
    /// Names in lower case, values as sent (trimmed).
    headers: Vec<(String, String)>,
}

impl RequestHead {
    /// The first value of header `name` (lower case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The headers as an `http` map; a name or value `http` refuses is left out (it names no
    /// address anyway).
    pub(crate) fn header_map(&self) -> http::HeaderMap {
        let mut map = http::HeaderMap::with_capacity(self.headers.len());
        for (name, value) in &self.headers {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_str(value),
            ) {
                map.append(name, value);
            }
        }
        map
    }

    /// `Upgrade: websocket` with `Connection` naming `upgrade`, as both transports send.
    pub(crate) fn upgrade_websocket(&self) -> bool {
        let upgrade = self
            .header("upgrade")
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
        let connection = self.header("connection").is_some_and(|v| {
            v.split(',')
                .any(|token| token.trim().eq_ignore_ascii_case("upgrade"))
        });
        upgrade && connection
    }
}

/// The head at the start of `buf` and its length; `Ok(None)` when incomplete, `Err` when it
/// is not an HTTP/1.1 request head we take.
pub(crate) fn parse(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, ()> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let used = match request.parse(buf) {
        Ok(httparse::Status::Complete(used)) => used,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(()),
    };
    if request.version != Some(1) {
        return Err(());
    }
    let (Some(method), Some(path)) = (request.method, request.path) else {
        return Err(());
    };
    let mut owned = Vec::with_capacity(request.headers.len());
    for h in request.headers.iter() {
        let Ok(value) = std::str::from_utf8(h.value) else {
            return Err(());
        };
        owned.push((h.name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    Ok(Some((
        RequestHead {
            method: method.to_owned(),
            path: path.to_owned(),
            headers: owned,
        },
        used,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_head_asks_for_more_and_garbage_is_refused() {
        assert!(matches!(parse(b"GET /a HTTP/1.1\r\nHost: x\r\n"), Ok(None)));
        assert!(parse(b"GET /a HTTP/1.0\r\n\r\n").is_err());
        assert!(parse(b"\x00\x01\x02 junk\r\n\r\n").is_err());
        let (head, used) = parse(b"GET /a?b HTTP/1.1\r\nUPGRADE: WebSocket\r\nConnection: keep-alive, Upgrade\r\n\r\nrest")
            .unwrap()
            .unwrap();
        assert_eq!(used, 74);
        assert_eq!(head.path, "/a?b");
        assert!(head.upgrade_websocket());
    }

    #[test]
    fn repeated_headers_all_reach_the_map_in_order() {
        let (head, _) = parse(b"GET / HTTP/1.1\r\nX-Forwarded-For: 192.0.2.1\r\nx-forwarded-for: 198.51.100.2\r\nX-Real-IP: 203.0.113.3\r\n\r\n")
            .unwrap()
            .unwrap();
        let map = head.header_map();
        let xff: Vec<_> = map.get_all("x-forwarded-for").iter().collect();
        assert_eq!(xff, ["192.0.2.1", "198.51.100.2"]);
        assert_eq!(map.get("x-real-ip").unwrap(), "203.0.113.3");
    }
}
