//! Money as integer minor units of an ISO 4217 currency, and how people read it ("1,500.50
//! USD"; what they type is read by `validate::parse_money`). No floating point ever touches an
//! amount.

use serde::{Deserialize, Serialize};

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
