//! The subscription URL as a QR code PNG, for scanning with a phone's VPN app.

use image::{GrayImage, ImageFormat, Luma};
use qrcode::{Color, QrCode};

/// Pixels per QR module, and the quiet zone around the code in modules.
const SCALE: u32 = 8;
const QUIET_ZONE: u32 = 4;

#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error("the text is too long for a QR code")]
    TooLong,
    #[error("cannot encode the PNG: {0}")]
    Png(String),
}

/// A PNG image of `text` as a QR code.
pub fn png(text: &str) -> Result<Vec<u8>, QrError> {
    let code = QrCode::new(text.as_bytes()).map_err(|_| QrError::TooLong)?;
    let width = u32::try_from(code.width()).map_err(|_| QrError::TooLong)?;
    let colors = code.to_colors();
    let side = (width + 2 * QUIET_ZONE) * SCALE;
    let image = GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (x / SCALE, y / SCALE);
        let dark = mx >= QUIET_ZONE
            && my >= QUIET_ZONE
            && mx - QUIET_ZONE < width
            && my - QUIET_ZONE < width
            && colors
                .get(((my - QUIET_ZONE) * width + (mx - QUIET_ZONE)) as usize)
                .is_some_and(|c| *c == Color::Dark);
        Luma([if dark { 0 } else { 255 }])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut out, ImageFormat::Png)
        .map_err(|e| QrError::Png(e.to_string()))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscription_url_becomes_a_png_with_a_quiet_zone() {
        let bytes = png("https://vpn.example/sub/0123456789abcdef").unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let image = image::load_from_memory(&bytes).unwrap().to_luma8();
        assert_eq!(image.get_pixel(0, 0)[0], 255, "the corner is quiet");
        let finder = QUIET_ZONE * SCALE;
        assert_eq!(
            image.get_pixel(finder, finder)[0],
            0,
            "a finder pattern starts there"
        );
    }
}
