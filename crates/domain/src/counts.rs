//! Numbers with their nouns, as each language writes them ("3 дня", "5 минут", "1 day").
//! Shared by the website and the data inventory, so Russian plurals are worked out once.

use crate::Language;

/// "3 дня", "5 дней", "21 день"; "1 day", "30 days".
pub fn days(lang: Language, n: u32) -> String {
    counted(lang, n, ["day", "days"], ["день", "дня", "дней"])
}

/// "1 минута", "2 минуты", "15 минут"; "1 minute", "15 minutes".
pub fn minutes(lang: Language, n: u32) -> String {
    counted(
        lang,
        n,
        ["minute", "minutes"],
        ["минута", "минуты", "минут"],
    )
}

/// `n` and the noun's form for it: English singular or plural; Russian for 1 (and 21, 31, …),
/// for 2–4 (and 22–24, …) and for the rest (including 11–14).
fn counted(lang: Language, n: u32, en: [&str; 2], ru: [&str; 3]) -> String {
    let word = match lang {
        Language::En if n == 1 => en[0],
        Language::En => en[1],
        Language::Ru => match (n % 10, n % 100) {
            (1, r) if r != 11 => ru[0],
            (2..=4, r) if !(12..=14).contains(&r) => ru[1],
            _ => ru[2],
        },
    };
    format!("{n} {word}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_day_counts_take_the_right_plural() {
        let got: Vec<String> = [1, 2, 5, 11, 12, 21, 22, 25, 30, 90, 101, 111]
            .iter()
            .map(|&n| days(Language::Ru, n))
            .collect();
        assert_eq!(
            got,
            [
                "1 день",
                "2 дня",
                "5 дней",
                "11 дней",
                "12 дней",
                "21 день",
                "22 дня",
                "25 дней",
                "30 дней",
                "90 дней",
                "101 день",
                "111 дней"
            ]
        );
    }

    #[test]
    fn english_day_counts_are_singular_only_for_one() {
        assert_eq!(days(Language::En, 1), "1 day");
        assert_eq!(days(Language::En, 30), "30 days");
    }

    #[test]
    fn minutes_take_the_same_plural_rule() {
        assert_eq!(minutes(Language::Ru, 1), "1 минута");
        assert_eq!(minutes(Language::Ru, 10), "10 минут");
        assert_eq!(minutes(Language::Ru, 23), "23 минуты");
        assert_eq!(minutes(Language::En, 15), "15 minutes");
    }
}
