//! The ways to pay inside the card provider's page that the operator may offer
//! (`[yookassa] payment_methods`), named as YooKassa's `payment_method_data.type`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PaymentMethod {
    #[serde(rename = "bank_card")]
    BankCard,
    /// Russia's Faster Payments System.
    #[serde(rename = "sbp")]
    Sbp,
    /// SberPay.
    #[serde(rename = "sberbank")]
    SberBank,
    #[serde(rename = "yoo_money")]
    YooMoney,
}

impl PaymentMethod {
    pub const ALL: [PaymentMethod; 4] = [
        PaymentMethod::BankCard,
        PaymentMethod::Sbp,
        PaymentMethod::SberBank,
        PaymentMethod::YooMoney,
    ];

    /// YooKassa's name of the method (`payment_method_data.type`).
    pub fn code(self) -> &'static str {
        match self {
            PaymentMethod::BankCard => "bank_card",
            PaymentMethod::Sbp => "sbp",
            PaymentMethod::SberBank => "sberbank",
            PaymentMethod::YooMoney => "yoo_money",
        }
    }

    /// Which method a payment uses, given the operator's list and what the person chose: none
    /// when the operator listed none (the provider's page offers what the shop has), the
    /// person's choice when it is on the list, otherwise the list's first.
    pub fn pick(offered: &[PaymentMethod], chosen: Option<PaymentMethod>) -> Option<Self> {
        match chosen {
            Some(c) if offered.contains(&c) => Some(c),
            _ => offered.first().copied(),
        }
    }
}

impl FromStr for PaymentMethod {
    type Err = UnknownPaymentMethod;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.code() == s)
            .ok_or(UnknownPaymentMethod)
    }
}

impl fmt::Display for PaymentMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a payment method is one of bank_card, sbp, sberbank, yoo_money")]
pub struct UnknownPaymentMethod;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for m in PaymentMethod::ALL {
            assert_eq!(m.code().parse::<PaymentMethod>(), Ok(m));
            assert_eq!(
                serde_json::to_string(&m).unwrap(),
                format!("\"{}\"", m.code())
            );
        }
        assert!("card".parse::<PaymentMethod>().is_err());
    }

    #[test]
    fn the_choice_counts_only_when_offered() {
        use PaymentMethod::*;
        assert_eq!(PaymentMethod::pick(&[], Some(Sbp)), None);
        assert_eq!(PaymentMethod::pick(&[Sbp], None), Some(Sbp));
        assert_eq!(
            PaymentMethod::pick(&[Sbp, BankCard], Some(BankCard)),
            Some(BankCard)
        );
        assert_eq!(
            PaymentMethod::pick(&[Sbp, BankCard], Some(YooMoney)),
            Some(Sbp)
        );
    }
}
