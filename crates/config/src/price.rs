//! Rouble prices as operators write them (`199` or `199.50`), kept as integer kopecks.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rubles {
    pub kopecks: i64,
}

impl Rubles {
    pub fn money(self) -> domain::Money {
        domain::Money::rub_kopecks(self.kopecks)
    }
}

impl fmt::Display for Rubles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kopecks % 100 == 0 {
            write!(f, "{}", self.kopecks / 100)
        } else {
            write!(f, "{}.{:02}", self.kopecks / 100, self.kopecks % 100)
        }
    }
}

impl Serialize for Rubles {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.kopecks % 100 == 0 {
            s.serialize_i64(self.kopecks / 100)
        } else {
            s.serialize_f64(self.kopecks as f64 / 100.0)
        }
    }
}

impl<'de> Deserialize<'de> for Rubles {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Rubles;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a price in roubles such as 199 or 199.50")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Rubles, E> {
                if v < 0 {
                    return Err(E::custom("a price cannot be negative"));
                }
                v.checked_mul(100)
                    .map(|kopecks| Rubles { kopecks })
                    .ok_or_else(|| E::custom("price too large"))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Rubles, E> {
                i64::try_from(v)
                    .map_err(|_| E::custom("price too large"))
                    .and_then(|v| self.visit_i64(v))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Rubles, E> {
                let kopecks = (v * 100.0).round();
                if !v.is_finite() || v < 0.0 || kopecks > 1e15 {
                    return Err(E::custom("a price must be a non-negative number"));
                }
                if ((kopecks / 100.0) - v).abs() > 1e-9 {
                    return Err(E::custom("a price has at most two decimal places"));
                }
                Ok(Rubles {
                    kopecks: kopecks as i64,
                })
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Rubles, E> {
                let v: f64 = v.trim().parse().map_err(|_| E::custom("not a number"))?;
                self.visit_f64(v)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct P {
        p: Rubles,
    }

    fn parse(s: &str) -> Result<i64, toml::de::Error> {
        toml::from_str::<P>(s).map(|p| p.p.kopecks)
    }

    #[test]
    fn whole_and_decimal_roubles_become_kopecks() {
        assert_eq!(parse("p = 199").unwrap(), 19900);
        assert_eq!(parse("p = 199.5").unwrap(), 19950);
        assert_eq!(parse("p = \"99.99\"").unwrap(), 9999);
    }

    #[test]
    fn negative_or_fractional_kopecks_are_refused() {
        assert!(parse("p = -1").is_err());
        assert!(parse("p = 1.234").is_err());
    }
}
