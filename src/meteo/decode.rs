//! Text decoding of AEMET bodies.
//!
//! AEMET labels most bodies ISO-8859-15 but sends some as UTF-8 (the 429 body, a few
//! metadata files), and its labels are unreliable. So the label is ignored: a body that is
//! valid UTF-8 is UTF-8 (Latin-9 text with accents practically never is), anything else is
//! ISO-8859-15. Every byte maps to a character in ISO-8859-15, so nothing is ever replaced.

/// Decodes `bytes` as strict UTF-8, else as ISO-8859-15, after stripping a UTF-8 BOM.
pub fn decode_text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| latin9_char(b)).collect(),
    }
}

/// One ISO-8859-15 byte as a char: Latin-1 except for the eight positions Latin-9 reassigned.
fn latin9_char(b: u8) -> char {
    match b {
        0xA4 => '€',
        0xA6 => 'Š',
        0xA8 => 'š',
        0xB4 => 'Ž',
        0xB8 => 'ž',
        0xBC => 'Œ',
        0xBD => 'œ',
        0xBE => 'Ÿ',
        _ => char::from(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_passes_through() {
        assert_eq!(decode_text("límites".as_bytes()), "límites");
    }

    #[test]
    fn latin9_bytes_are_decoded_not_replaced() {
        assert_eq!(
            decode_text(b"Meteorolog\xEDa \xA9 AEMET \xA4"),
            "Meteorología © AEMET €"
        );
    }

    #[test]
    fn bom_is_stripped() {
        assert_eq!(decode_text(b"\xEF\xBB\xBF[1]"), "[1]");
    }
}
