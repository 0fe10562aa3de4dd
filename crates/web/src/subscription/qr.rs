//! QR codes as inline SVG, drawn on the server so the page needs no script and no image request.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// The SVG element for `text`, or `None` when it is too long for a QR code.
pub fn svg(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let image = code
        .render::<svg::Color>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // Inline in HTML the XML declaration is noise; keep the <svg> element only.
    let start = image.find("<svg")?;
    Some(image[start..].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_becomes_an_inline_svg_without_styles_or_scripts() {
        let svg = svg("https://vpn.example/sub/AAAAAAAAAAAAAAAAAAAAAA").unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(!svg.contains("style="));
        assert!(!svg.contains("<script"));
    }

    #[test]
    fn text_too_long_for_a_qr_code_gives_none() {
        assert_eq!(svg(&"x".repeat(5000)), None);
    }
}
