//! YooKassa's amount strings (`"199.00"`) to and from integer kopecks, never through floats.

use domain::{Currency, Money};

/// `19900` kopecks → `"199.00"`.
pub fn to_value(money: Money) -> String {
    format!("{}.{:02}", money.minor / 100, money.minor % 100)
}

/// `"199.00"` in `"RUB"` → 19 900 kopecks. `None` for anything else: a missing or extra
/// decimal, a sign, another currency.
pub fn from_value(value: &str, currency: &str) -> Option<Money> {
    if Currency::from_code(currency) != Some(Currency::Rub) {
        return None;
    }
    let (major, minor) = value.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(major) || minor.len() != 2 || !digits(minor) {
        return None;
    }
    let kopecks = major
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(minor.parse::<i64>().ok()?)?;
    Some(Money::rub_kopecks(kopecks))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kopecks_become_two_decimal_strings() {
        assert_eq!(to_value(Money::rub_kopecks(19_900)), "199.00");
        assert_eq!(to_value(Money::rub_kopecks(19_950)), "199.50");
        assert_eq!(to_value(Money::rub_kopecks(5)), "0.05");
    }

    #[test]
    fn only_exact_rouble_strings_parse_back() {
        assert_eq!(
            from_value("199.00", "RUB"),
            Some(Money::rub_kopecks(19_900))
        );
        assert_eq!(from_value("0.05", "RUB"), Some(Money::rub_kopecks(5)));
        assert_eq!(from_value("199", "RUB"), None);
        assert_eq!(from_value("199.5", "RUB"), None);
        assert_eq!(from_value("-1.00", "RUB"), None);
        assert_eq!(from_value("199.00", "USD"), None);
    }
}
