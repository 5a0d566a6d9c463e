//! Money as integer minor units of an ISO 4217 currency, and its conversion from and to what
//! people type and read ("1,500.50 USD"). No floating point ever touches an amount.

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Money {
    pub amount_minor: i64,
    pub currency: String,
}

/// Decimal places of an ISO 4217 currency; codes without minor units (XAU…) count as 0.
pub fn currency_exponent(code: &str) -> u32 {
    iso_currency::Currency::from_code(code).and_then(|c| c.exponent()).map_or(0, u32::from)
}

impl Money {
    /// Parses an amount in major units ("1500000", "1,500.50") of `currency`. A negative amount
    /// is returned as is, for validation to refuse with its own message.
    pub fn parse_major(amount: &str, currency: &str) -> Result<Money, ValidationError> {
        let code = crate::validate::currency(currency)?;
        let exp = currency_exponent(&code);
        let err = || {
            let places = match exp {
                0 => format!("{code} has no decimal places"),
                n => format!("{code} has at most {n} decimal places"),
            };
            ValidationError::Invalid {
                field: "deal value",
                reason: format!(
                    "'{amount}' is not an amount of money; use digits such as 1500000 or 1500.50 ({places})"
                ),
            }
        };
        let s = amount.trim();
        let (neg, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        // Thousands separators are accepted only as grouping, never as a decimal point.
        let whole: String = whole.chars().filter(|c| *c != ',' && *c != '_').collect();
        if whole.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(err());
        }
        if s.contains('.') && frac.is_empty() || frac.len() > exp as usize {
            return Err(err());
        }
        let padded = format!("{whole}{frac:0<width$}", width = exp as usize);
        let minor: i64 = padded.parse().map_err(|_| err())?;
        Ok(Money { amount_minor: if neg { -minor } else { minor }, currency: code })
    }
}

/// `1,500,000 KRW`, `1,500.50 USD`.
impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let exp = currency_exponent(&self.currency);
        let digits = self.amount_minor.unsigned_abs().to_string();
        let digits = format!("{digits:0>width$}", width = exp as usize + 1);
        let (whole, frac) = digits.split_at(digits.len() - exp as usize);
        let mut grouped = String::new();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        if frac.is_empty() {
            write!(f, "{sign}{grouped} {}", self.currency)
        } else {
            write!(f, "{sign}{grouped}.{frac} {}", self.currency)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minor(a: &str, c: &str) -> Result<i64, String> {
        Money::parse_major(a, c).map(|m| m.amount_minor).map_err(|e| e.to_string())
    }

    #[test]
    fn amounts_become_minor_units_of_their_currency() {
        assert_eq!(minor("1500000", "KRW"), Ok(1_500_000));
        assert_eq!(minor("1,500,000", "krw"), Ok(1_500_000));
        assert_eq!(minor("1500.5", "USD"), Ok(150_050));
        assert_eq!(minor("1500", "USD"), Ok(150_000));
        assert_eq!(minor("0.001", "KWD"), Ok(1));
        assert_eq!(minor("-5", "USD"), Ok(-500));
        assert_eq!(Money::parse_major("1", "eur").map(|m| m.currency), Ok("EUR".into()));
    }

    #[test]
    fn bad_amounts_say_why() {
        assert!(minor("1500.5", "KRW").unwrap_err().contains("KRW has no decimal places"));
        assert!(minor("1.505", "USD").unwrap_err().contains("at most 2"));
        for bad in ["", "abc", "1.", ".5", "1e6", "1.2.3", "99999999999999999999", "１０"] {
            assert!(minor(bad, "USD").is_err(), "{bad}");
        }
        assert!(minor("1", "dollars").unwrap_err().contains("ISO 4217"));
    }

    #[test]
    fn formatting_groups_thousands_and_keeps_decimals() {
        let m = |a, c: &str| Money { amount_minor: a, currency: c.into() }.to_string();
        assert_eq!(m(1_500_000, "KRW"), "1,500,000 KRW");
        assert_eq!(m(150_050, "USD"), "1,500.50 USD");
        assert_eq!(m(5, "USD"), "0.05 USD");
        assert_eq!(m(100, "KRW"), "100 KRW");
        assert_eq!(m(0, "USD"), "0.00 USD");
        assert_eq!(m(i64::MIN, "KRW"), "-9,223,372,036,854,775,808 KRW");
    }
}
