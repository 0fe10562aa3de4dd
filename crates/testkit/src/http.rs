//! Plain HTTP/1.1 to milly's website over loopback, one request per connection
//! (`Connection: close`), as curl, a browser or a client app fetching its subscription sends it.

use std::io::{self, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// How long the blocking helpers wait for an answer.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// What came back: the head (status line and headers) and the body, split at the blank line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub head: String,
    pub body: String,
}

impl Answer {
    fn parse(bytes: &[u8]) -> Answer {
        let text = String::from_utf8_lossy(bytes).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text.as_str(), ""));
        Answer {
            head: head.to_owned(),
            body: body.to_owned(),
        }
    }

    /// The status code (0 if there was no status line).
    pub fn status(&self) -> u16 {
        self.head
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
    }
}

/// `METHOD PATH` to `addr` with `headers` and `body` (a `Content-Length` is added for a body).
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> String {
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (k, v) in headers {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        text.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    text.push_str("Connection: close\r\n\r\n");
    text.push_str(body);
    text
}

/// `GET path` on 127.0.0.1:`port`, blocking (for tests without a runtime): (status, body).
pub fn get(port: u16, path: &str) -> io::Result<(u16, String)> {
    get_with(port, path, &[])
}

/// [`get`] with extra headers.
pub fn get_with(port: u16, path: &str, headers: &[(&str, &str)]) -> io::Result<(u16, String)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(READ_TIMEOUT))?;
    s.write_all(request(addr, "GET", path, headers, "").as_bytes())?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let answer = Answer::parse(&buf);
    Ok((answer.status(), answer.body))
}

/// `GET path` with `headers`.
pub async fn fetch(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> io::Result<Answer> {
    exchange(addr, &request(addr, "GET", path, headers, "")).await
}

/// A form POST, as a browser pressing a button sends it.
pub async fn post_form(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    form: &str,
) -> io::Result<Answer> {
    let mut all = headers.to_vec();
    all.push(("Content-Type", "application/x-www-form-urlencoded"));
    exchange(addr, &request(addr, "POST", path, &all, form)).await
}

async fn exchange(addr: SocketAddr, request: &str) -> io::Result<Answer> {
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.write_all(request.as_bytes()).await?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await?;
    Ok(Answer::parse(&buf))
}

/// `GET /admin/metrics` with the operator's bearer token: the body, if it answered 200.
pub async fn admin_metrics(addr: SocketAddr, token: &str) -> io::Result<String> {
    let bearer = format!("Bearer {token}");
    let answer = fetch(addr, "/admin/metrics", &[("Authorization", &bearer)]).await?;
    if answer.status() != 200 {
        return Err(io::Error::other(format!(
            "/admin/metrics answered {}",
            answer.head
        )));
    }
    Ok(answer.body)
}

/// The value of the unlabelled metric `name` in a Prometheus text body.
pub fn metric(body: &str, name: &str) -> Option<u64> {
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_splits_at_the_blank_line_and_reads_its_status() {
        let a = Answer::parse(b"HTTP/1.1 404 Not Found\r\nA: b\r\n\r\nno\r\n\r\nmore");
        assert_eq!(a.status(), 404);
        assert_eq!(a.head, "HTTP/1.1 404 Not Found\r\nA: b");
        assert_eq!(a.body, "no\r\n\r\nmore");
        assert_eq!(Answer::parse(b"").status(), 0);
    }

    #[test]
    fn a_form_post_carries_its_length_and_closes() {
        let addr = "127.0.0.1:80".parse().unwrap();
        let text = request(addr, "POST", "/x", &[("A", "b")], "k=v");
        assert_eq!(
            text,
            "POST /x HTTP/1.1\r\nHost: 127.0.0.1:80\r\nA: b\r\nContent-Length: 3\r\n\
             Connection: close\r\n\r\nk=v"
        );
    }

    #[test]
    fn metrics_are_read_by_their_exact_name() {
        let body = "milly_users_total 3\nmilly_users 7\nx{a=\"b\"} 1\n";
        assert_eq!(metric(body, "milly_users"), Some(7));
        assert_eq!(metric(body, "milly_users_total"), Some(3));
        assert_eq!(metric(body, "x"), None);
    }
}
