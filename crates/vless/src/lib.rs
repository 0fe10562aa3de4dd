//! Sans-I/O codec for the VLESS protocol: request and response headers, UDP framing, Mux.Cool and XUDP.
