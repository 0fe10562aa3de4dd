//! Money in integer minor units: kopecks for roubles, whole stars for Telegram Stars.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    /// Russian rouble; minor unit is the kopeck.
    Rub,
    /// Telegram Stars; the minor unit is one star.
    Xtr,
}

impl Currency {
    pub fn code(self) -> &'static str {
        match self {
            Currency::Rub => "RUB",
            Currency::Xtr => "XTR",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "RUB" => Some(Currency::Rub),
            "XTR" => Some(Currency::Xtr),
            _ => None,
        }
    }

    /// How many minor units make one major unit.
    pub fn minor_per_major(self) -> i64 {
        match self {
            Currency::Rub => 100,
            Currency::Xtr => 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn rub_kopecks(minor: i64) -> Self {
        Self {
            minor,
            currency: Currency::Rub,
        }
    }
    pub fn stars(stars: i64) -> Self {
        Self {
            minor: stars,
            currency: Currency::Xtr,
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.currency {
            Currency::Rub => {
                let major = self.minor / 100;
                let kop = (self.minor % 100).abs();
                if kop == 0 {
                    write!(f, "{major} ₽")
                } else {
                    write!(f, "{major}.{kop:02} ₽")
                }
            }
            Currency::Xtr => write!(f, "{} ⭐", self.minor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roubles_display_with_kopecks_only_when_present() {
        assert_eq!(Money::rub_kopecks(19900).to_string(), "199 ₽");
        assert_eq!(Money::rub_kopecks(19950).to_string(), "199.50 ₽");
        assert_eq!(Money::stars(100).to_string(), "100 ⭐");
    }

    #[test]
    fn currency_codes_round_trip() {
        for c in [Currency::Rub, Currency::Xtr] {
            assert_eq!(Currency::from_code(c.code()), Some(c));
        }
        assert_eq!(Currency::from_code("USD"), None);
    }
}
