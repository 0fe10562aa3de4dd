//! What a scanner sees: raw exchanges with a server over TCP or TLS, and the first bytes a VLESS
//! client would send, for probing a node without a third-party client.

use std::net::{IpAddr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::tls::{insecure_client_config, TlsError};

/// Connects with TLS to `addr` as `server_name` without checking the certificate, sends
/// `request`, and returns everything received until the server closes or `wait` passes.
pub async fn tls(
    addr: SocketAddr,
    server_name: &str,
    request: &[u8],
    wait: Duration,
) -> Result<Vec<u8>, TlsError> {
    let config = Arc::new(insecure_client_config()?);
    let name = ServerName::try_from(server_name.to_owned())
        .map_err(|_| TlsError::ServerName(server_name.to_owned()))?;
    let connect = async {
        let tcp = TcpStream::connect(addr).await?;
        Ok::<_, TlsError>(TlsConnector::from(config).connect(name, tcp).await?)
    };
    let stream = tokio::time::timeout(wait, connect)
        .await
        .map_err(|_| TlsError::Timeout)??;
    send_and_collect(stream, request, wait).await
}

/// A TLS connection to `addr` as `server_name` from the local address `source` (on loopback
/// any of 127.0.0.0/8), the certificate unchecked: a client at an address of the test's choice.
pub async fn tls_from(
    source: IpAddr,
    addr: SocketAddr,
    server_name: &str,
    wait: Duration,
) -> Result<TlsStream<TcpStream>, TlsError> {
    let config = Arc::new(insecure_client_config()?);
    let name = ServerName::try_from(server_name.to_owned())
        .map_err(|_| TlsError::ServerName(server_name.to_owned()))?;
    let connect = async {
        let socket = match source {
            IpAddr::V4(_) => TcpSocket::new_v4()?,
            IpAddr::V6(_) => TcpSocket::new_v6()?,
        };
        socket.bind(SocketAddr::new(source, 0))?;
        let tcp = socket.connect(addr).await?;
        Ok::<_, TlsError>(TlsConnector::from(config).connect(name, tcp).await?)
    };
    tokio::time::timeout(wait, connect)
        .await
        .map_err(|_| TlsError::Timeout)?
}

/// The same over plain TCP: what the server at `addr` answers to `request` directly.
pub async fn tcp(addr: SocketAddr, request: &[u8], wait: Duration) -> Result<Vec<u8>, TlsError> {
    let stream = tokio::time::timeout(wait, TcpStream::connect(addr))
        .await
        .map_err(|_| TlsError::Timeout)??;
    send_and_collect(stream, request, wait).await
}

async fn send_and_collect<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    request: &[u8],
    wait: Duration,
) -> Result<Vec<u8>, TlsError> {
    stream.write_all(request).await?;
    stream.flush().await?;
    let mut received = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let _ = tokio::time::timeout(wait, async {
        // A close without close_notify, or a reset, still ends the answer.
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    Ok(received)
}

/// Whether the node at `addr` proxies for `user_id` right now: a TLS connection sends a VLESS
/// request to the TCP echo at `echo` with a few bytes, and must get the response header
/// (version 0, no addons) and those bytes back. Anything else, including the fallback
/// website's answer, is `false`.
pub async fn vless_admits(
    addr: SocketAddr,
    server_name: &str,
    user_id: &[u8; 16],
    echo: SocketAddrV4,
    wait: Duration,
) -> Result<bool, TlsError> {
    const PING: &[u8] = b"ping";
    let config = Arc::new(insecure_client_config()?);
    let name = ServerName::try_from(server_name.to_owned())
        .map_err(|_| TlsError::ServerName(server_name.to_owned()))?;
    let run = async {
        let tcp = TcpStream::connect(addr).await?;
        let mut tls = TlsConnector::from(config).connect(name, tcp).await?;
        let mut request = vless_tcp_request(user_id, echo);
        request.extend_from_slice(PING);
        tls.write_all(&request).await?;
        tls.flush().await?;
        let mut answer = [0u8; 2 + PING.len()];
        tls.read_exact(&mut answer).await?;
        Ok::<_, TlsError>(answer[..2] == [0, 0] && &answer[2..] == PING)
    };
    match tokio::time::timeout(wait, run).await {
        Ok(Ok(admitted)) => Ok(admitted),
        // The fallback closing early, or a reset, is a refusal, not a probe failure.
        Ok(Err(TlsError::Io(_))) | Err(_) => Ok(false),
        Ok(Err(e)) => Err(e),
    }
}

/// A VLESS connection over TLS to the TCP echo at `echo`, held open: the node admitted
/// `user_id` and the first bytes came back. `None` when the node refused (see
/// [`vless_admits`]).
pub async fn vless_open(
    addr: SocketAddr,
    server_name: &str,
    user_id: &[u8; 16],
    echo: SocketAddrV4,
    wait: Duration,
) -> Result<Option<OpenVless>, TlsError> {
    let config = Arc::new(insecure_client_config()?);
    let name = ServerName::try_from(server_name.to_owned())
        .map_err(|_| TlsError::ServerName(server_name.to_owned()))?;
    let run = async {
        let tcp = TcpStream::connect(addr).await?;
        let tls = TlsConnector::from(config).connect(name, tcp).await?;
        let mut open = OpenVless { tls };
        let mut request = vless_tcp_request(user_id, echo);
        request.extend_from_slice(b"ping");
        open.tls.write_all(&request).await?;
        open.tls.flush().await?;
        let mut answer = [0u8; 6];
        open.tls.read_exact(&mut answer).await?;
        Ok::<_, TlsError>((answer == *b"\0\0ping").then_some(open))
    };
    match tokio::time::timeout(wait, run).await {
        Ok(Ok(open)) => Ok(open),
        Ok(Err(TlsError::Io(_))) | Err(_) => Ok(None),
        Ok(Err(e)) => Err(e),
    }
}

/// A connection [`vless_open`] made, to an echo through the node.
pub struct OpenVless {
    tls: tokio_rustls::client::TlsStream<TcpStream>,
}

impl OpenVless {
    /// Whether `payload` still comes back within `wait`.
    pub async fn echoes(&mut self, payload: &[u8], wait: Duration) -> bool {
        let run = async {
            self.tls.write_all(payload).await?;
            self.tls.flush().await?;
            let mut back = vec![0u8; payload.len()];
            self.tls.read_exact(&mut back).await?;
            Ok::<_, std::io::Error>(back == payload)
        };
        matches!(tokio::time::timeout(wait, run).await, Ok(Ok(true)))
    }
}

/// The status line of an HTTP response (`HTTP/1.1 200 OK`), if the bytes start with one.
pub fn status_line(response: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(response);
    let line = text.lines().next()?;
    line.starts_with("HTTP/")
        .then(|| line.trim_end().to_owned())
}

/// The body of an HTTP/1.1 response (after the blank line), lossily as text.
pub fn body(response: &[u8]) -> String {
    let text = String::from_utf8_lossy(response);
    text.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default()
}

/// A VLESS request header (version 0, no addons, TCP to an IPv4 `target`) for `user_id`.
pub fn vless_tcp_request(user_id: &[u8; 16], target: SocketAddrV4) -> Vec<u8> {
    let mut v = vec![0u8];
    v.extend_from_slice(user_id);
    v.push(0); // addons length
    v.push(1); // command: TCP
    v.extend_from_slice(&target.port().to_be_bytes());
    v.push(1); // address type: IPv4
    v.extend_from_slice(&target.ip().octets());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vless_request_follows_the_wire_layout() {
        let v = vless_tcp_request(&[7; 16], "127.0.0.1:8080".parse().unwrap());
        assert_eq!(v.len(), 1 + 16 + 1 + 1 + 2 + 1 + 4);
        assert_eq!(&v[..2], &[0, 7]);
        assert_eq!(&v[17..], &[0, 1, 0x1f, 0x90, 1, 127, 0, 0, 1]);
    }

    #[test]
    fn http_responses_split_into_status_line_and_body() {
        let r = b"HTTP/1.1 404 Not Found\r\ncontent-type: text/html\r\n\r\n<html>x</html>";
        assert_eq!(status_line(r).as_deref(), Some("HTTP/1.1 404 Not Found"));
        assert_eq!(body(r), "<html>x</html>");
        assert_eq!(status_line(b"\x00\x01garbage"), None);
    }

    #[tokio::test]
    async fn a_plain_tcp_probe_collects_the_whole_answer() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut b = [0u8; 4];
            s.read_exact(&mut b).await.unwrap();
            s.write_all(b"HTTP/1.0 200 OK\r\n\r\nbye").await.unwrap();
        });
        let answer = tcp(addr, b"GET ", Duration::from_secs(5)).await.unwrap();
        assert_eq!(body(&answer), "bye");
    }
}
