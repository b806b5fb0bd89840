//! MeteoGalicia's sky and wind icon codes, as used by every forecast and the municipality
//! observation.
//!
//! Sky: `1xx` by day, `2xx` by night; the last two digits are the state of the sky. MeteoGalicia
//! publishes only the codes, so the text is ours, in Galician as on MeteoGalicia's own pages.
//! Wind: `299` calm, `300` variable, `301`–`332` four strengths (weak, moderate, strong, very
//! strong) of eight directions each (N, NE, E, SE, S, SW, W, NW: where it blows from).

use crate::meteo::model::{Condition, Sky};

/// The state of the sky (the last two digits): its text and condition.
fn state(n: u32) -> Option<(&'static str, Condition)> {
    use Condition::*;
    Some(match n {
        1 => ("Despexado", Sunny),
        2 => ("Nubes altas", PartlyCloudy),
        3 => ("Nubes e claros", PartlyCloudy),
        4 => ("Anubrado 75%", Cloudy),
        5 => ("Cuberto", Cloudy),
        6 => ("Néboas", Fog),
        7 => ("Chuvasco", Rainy),
        8 => ("Chuvasco 75%", Rainy),
        9 => ("Chuvasco de neve", Snowy),
        10 => ("Orballo", Rainy),
        11 => ("Choiva", Rainy),
        12 => ("Neve", Snowy),
        13 => ("Treboada", LightningRainy),
        14 => ("Brétema", Fog),
        15 => ("Bancos de néboa", Fog),
        16 => ("Nubes medias", PartlyCloudy),
        17 => ("Choiva débil", Rainy),
        18 => ("Chuvascos débiles", Rainy),
        19 => ("Treboada con poucas nubes", Lightning),
        20 => ("Auga neve", SnowyRainy),
        21 => ("Sarabia", Hail),
        22 => ("Anubrado con chuvascos débiles", Rainy),
        23 => ("Anubrado con neve", Snowy),
        24 => ("Calima", Exceptional),
        25 => ("Moi anubrado", Cloudy),
        _ => return None,
    })
}

/// The sky of a code; `None` for "no data" (`-9999`) and unknown codes.
pub fn sky(code: f64) -> Option<Sky> {
    if !(100.0..300.0).contains(&code) || code.fract() != 0.0 {
        return None;
    }
    // A whole number between 100 and 299, so the conversion is exact.
    let code = code as u32;
    let night = code >= 200;
    let (text, condition) = state(code % 100)?;
    let condition = match condition {
        Condition::Sunny if night => Condition::ClearNight,
        c => c,
    };
    Some(Sky {
        text: text.to_owned(),
        condition: Some(condition),
    })
}

/// The direction of a wind code, in degrees; `None` for calm, variable, "no data" and unknown
/// codes.
pub fn wind_direction(code: f64) -> Option<f64> {
    if !(301.0..=332.0).contains(&code) || code.fract() != 0.0 {
        return None;
    }
    Some(((code - 301.0) % 8.0) * 45.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sky_codes_by_day_and_night() {
        let s = sky(103.0).unwrap();
        assert_eq!(s.text, "Nubes e claros");
        assert_eq!(s.condition, Some(Condition::PartlyCloudy));
        assert_eq!(sky(101.0).unwrap().condition, Some(Condition::Sunny));
        assert_eq!(sky(201.0).unwrap().condition, Some(Condition::ClearNight));
        assert_eq!(sky(117.0).unwrap().condition, Some(Condition::Rainy));
        assert_eq!(sky(-9999.0), None);
        assert_eq!(sky(199.0), None);
    }

    #[test]
    fn wind_codes_give_where_it_blows_from() {
        assert_eq!(wind_direction(301.0), Some(0.0));
        assert_eq!(wind_direction(302.0), Some(45.0));
        assert_eq!(wind_direction(307.0), Some(270.0));
        assert_eq!(wind_direction(309.0), Some(0.0), "moderate N");
        assert_eq!(wind_direction(299.0), None, "calm");
        assert_eq!(wind_direction(300.0), None, "variable");
        assert_eq!(wind_direction(-9999.0), None);
    }
}
