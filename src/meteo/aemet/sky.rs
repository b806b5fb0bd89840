//! AEMET's sky codes (`estadoCielo.value`: `11`, `16n`, `36`, …) as Home Assistant conditions.
//!
//! The tens give the kind (1x cloud cover, 2x rain, 3x snow, 4x light rain, 5x storm, 6x storm
//! with light rain, 7x light snow, 8x fog and haze), the units the cloud cover, and an `n`
//! suffix marks the night.

use crate::meteo::model::Condition;

/// The condition of an AEMET sky code; `None` for empty or unknown codes.
pub fn condition(code: &str) -> Option<Condition> {
    let code = code.trim();
    let (digits, night) = match code.strip_suffix('n') {
        Some(d) => (d, true),
        None => (code, false),
    };
    let n: u32 = digits.parse().ok()?;
    Some(match n {
        11 if night => Condition::ClearNight,
        11 => Condition::Sunny,
        12 | 13 | 17 => Condition::PartlyCloudy,
        14..=16 => Condition::Cloudy,
        23..=26 | 43..=46 => Condition::Rainy,
        27 => Condition::Pouring,
        33..=36 | 71..=74 => Condition::Snowy,
        51..=54 => Condition::Lightning,
        61..=64 => Condition::LightningRainy,
        81 | 82 => Condition::Fog,
        83 => Condition::Exceptional,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_conditions() {
        assert_eq!(condition("11"), Some(Condition::Sunny));
        assert_eq!(condition("11n"), Some(Condition::ClearNight));
        assert_eq!(condition("16n"), Some(Condition::Cloudy));
        assert_eq!(condition("36"), Some(Condition::Snowy));
        assert_eq!(condition("27"), Some(Condition::Pouring));
        assert_eq!(condition("62"), Some(Condition::LightningRainy));
        assert_eq!(condition("81"), Some(Condition::Fog));
        assert_eq!(condition(""), None);
        assert_eq!(condition("99"), None);
    }
}
