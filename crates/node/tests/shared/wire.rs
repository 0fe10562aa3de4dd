//! VLESS wire pieces both node test binaries (`reality/`, `scenarios/`) build their requests
//! from: the destination of a local server, and one Mux.Cool frame.

use std::net::SocketAddr;

use vless::{Address, Destination};

pub fn destination(addr: SocketAddr) -> Destination {
    let address = match addr.ip() {
        std::net::IpAddr::V4(v4) => Address::Ipv4(v4),
        std::net::IpAddr::V6(v6) => Address::Ipv6(v6),
    };
    Destination {
        address,
        port: addr.port(),
    }
}

pub fn mux_frame(session_id: u16, status: vless::mux::Status, data: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    let frame = vless::mux::Frame {
        session_id,
        status,
        error: false,
        data,
    };
    vless::mux::encode_frame(&frame, &mut out).unwrap();
    out
}
