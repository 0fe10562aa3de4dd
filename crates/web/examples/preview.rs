//! Serves the website with sample settings on a loopback port, for looking at it in a browser:
//! `cargo run -p web --example preview -- 127.0.0.1:8088`.

use std::net::SocketAddr;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8088".into())
        .parse()?;
    let settings = web::SiteSettings {
        service_name: "milly".into(),
        public_url: format!("http://{addr}").parse().expect("a local http URL"),
        operator: "ИП Иванова А. А.".into(),
        support_email: "support@milly.example".into(),
        support_telegram: "@milly_support".into(),
        ..web::SiteSettings::default()
    };
    let site = web::Site::new(settings).with_bot_username("milly_vpn_bot");
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("serving on http://{addr}");
    axum::serve(listener, web::router(site)).await?;
    Ok(())
}
