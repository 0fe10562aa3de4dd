//! The VLESS data plane: TLS listener, user table fed by the control plane, relay, fallback to the website, safe egress.
