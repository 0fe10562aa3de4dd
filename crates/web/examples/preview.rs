//! Serves the website with sample settings on a loopback port, for looking at it in a browser:
//! `cargo run -p web --example preview -- 127.0.0.1:8088`.

use std::net::SocketAddr;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8088".into())
        .parse()?;
    let mut config = config::Config::default();
    config.service.name = "milly".into();
    config.service.public_url = format!("http://{addr}").parse().expect("a local http URL");
    config.service.operator = "ИП Иванова А. А.".into();
    config.service.support_email = "support@milly.example".into();
    config.service.support_telegram = "@milly_support".into();
    let site = web::Site::new(Arc::new(config)).with_bot_username("milly_vpn_bot");
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("serving on http://{addr}");
    axum::serve(listener, web::router(site)).await?;
    Ok(())
}
