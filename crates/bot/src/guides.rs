//! Short per-platform instructions naming the client apps, with their deep links for importing
//! the subscription where the app has one.

use domain::Language;

use crate::texts::escape;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Android,
    Ios,
    Windows,
    Macos,
    Linux,
}

impl Platform {
    pub const ALL: [Platform; 5] = [
        Platform::Android,
        Platform::Ios,
        Platform::Windows,
        Platform::Macos,
        Platform::Linux,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Platform::Android => "android",
            Platform::Ios => "ios",
            Platform::Windows => "windows",
            Platform::Macos => "macos",
            Platform::Linux => "linux",
        }
    }

    pub fn from_code(code: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.code() == code)
    }

    pub fn name(self) -> &'static str {
        match self {
            Platform::Android => "Android",
            Platform::Ios => "iOS",
            Platform::Windows => "Windows",
            Platform::Macos => "macOS",
            Platform::Linux => "Linux",
        }
    }
}

/// Percent-encodes a URL for use inside another URL's query.
fn encode(url: &str) -> String {
    url::form_urlencoded::byte_serialize(url.as_bytes()).collect()
}

/// The instructions for `platform`, with `sub_url` in the import deep links.
pub fn guide(language: Language, platform: Platform, sub_url: &str) -> String {
    let hiddify = escape(&format!("hiddify://import/{sub_url}"));
    let v2rayng = escape(&format!("v2rayng://install-config?url={}", encode(sub_url)));
    let streisand = escape(&format!("streisand://import/{sub_url}"));
    let happ = escape(&format!("happ://add/{sub_url}"));
    let url = escape(sub_url);
    let ru = language == Language::Ru;
    let body = match platform {
        Platform::Android if ru => format!(
            "1. Установите <b>v2rayNG</b> или <b>Hiddify</b> из Google Play.\n\
             2. Скопируйте ссылку подписки и в приложении выберите «+» → «Импорт из буфера».\n\
             Или откройте ссылку импорта:\n<code>{v2rayng}</code>\n<code>{hiddify}</code>"
        ),
        Platform::Android => format!(
            "1. Install <b>v2rayNG</b> or <b>Hiddify</b> from Google Play.\n\
             2. Copy the subscription link and in the app choose \"+\" → \"Import from \
             clipboard\".\nOr open an import link:\n<code>{v2rayng}</code>\n<code>{hiddify}</code>"
        ),
        Platform::Ios if ru => format!(
            "1. Установите <b>Streisand</b> или <b>Happ</b> из App Store.\n\
             2. Скопируйте ссылку подписки и добавьте её в приложении («+»).\n\
             Ссылки импорта:\n<code>{streisand}</code>\n<code>{happ}</code>"
        ),
        Platform::Ios => format!(
            "1. Install <b>Streisand</b> or <b>Happ</b> from the App Store.\n\
             2. Copy the subscription link and add it in the app (\"+\").\n\
             Import links:\n<code>{streisand}</code>\n<code>{happ}</code>"
        ),
        Platform::Windows | Platform::Macos if ru => format!(
            "1. Установите <b>Hiddify</b> (github.com/hiddify/hiddify-app/releases).\n\
             2. Нажмите «Новый профиль» → «Добавить из буфера» со скопированной ссылкой.\n\
             Ссылка импорта:\n<code>{hiddify}</code>"
        ),
        Platform::Windows | Platform::Macos => format!(
            "1. Install <b>Hiddify</b> (github.com/hiddify/hiddify-app/releases).\n\
             2. Press \"New profile\" → \"Add from clipboard\" with the copied link.\n\
             Import link:\n<code>{hiddify}</code>"
        ),
        Platform::Linux if ru => format!(
            "Запустите <code>milly client {url}</code> (локальный SOCKS-прокси), либо \
             импортируйте ссылку в <b>sing-box</b> или <b>Hiddify</b>."
        ),
        Platform::Linux => format!(
            "Run <code>milly client {url}</code> (a local SOCKS proxy), or import the link into \
             <b>sing-box</b> or <b>Hiddify</b>."
        ),
    };
    format!("📱 <b>{}</b>\n\n{body}", platform.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_platform_has_a_code_that_reads_back() {
        for p in Platform::ALL {
            assert_eq!(Platform::from_code(p.code()), Some(p));
        }
    }

    #[test]
    fn guides_name_apps_and_carry_the_link() {
        let url = "https://vpn.example/sub/abc";
        for language in Language::ALL {
            let android = guide(language, Platform::Android, url);
            assert!(android.contains("v2rayNG") && android.contains("Hiddify"));
            assert!(android.contains("v2rayng://install-config?url=https%3A%2F%2Fvpn.example"));
            let ios = guide(language, Platform::Ios, url);
            assert!(ios.contains("Streisand") && ios.contains("Happ"));
            assert!(guide(language, Platform::Linux, url).contains("milly client"));
        }
    }
}
