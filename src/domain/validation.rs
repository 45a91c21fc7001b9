//! Input rules shared by several request bodies.

use validator::ValidationError;

/// Names and other short text must say something (not only white space)
/// and hold no control characters: a NUL, for one, is refused by
/// PostgreSQL and has no business in a name.
pub fn plain_text(text: &str) -> Result<(), ValidationError> {
    if text.chars().any(char::is_control) {
        return Err(
            ValidationError::new("control_characters").with_message("must not contain control characters".into())
        );
    }
    if text.trim().is_empty() {
        return Err(ValidationError::new("blank").with_message("must not be blank".into()));
    }
    Ok(())
}

/// A calendar date a person could mean: from 2000 to 2199. Keeps typing
/// slips (and years no database column holds) out of stored records.
pub fn plausible_date(date: &chrono::NaiveDate) -> Result<(), ValidationError> {
    use chrono::Datelike;
    if (2000..=2199).contains(&date.year()) {
        Ok(())
    } else {
        Err(ValidationError::new("out_of_range").with_message("must be a date from 2000 to 2199".into()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn blank_text_and_control_characters_are_refused() {
        assert!(super::plain_text("  ").is_err());
        assert!(super::plain_text("Kilmarnock\0").is_err());
        assert!(super::plain_text("Line\nbreak").is_err());
        assert!(super::plain_text(" Kilmarnock ").is_ok());
        assert!(super::plain_text("Caerdydd – Cardiff").is_ok());
    }

    #[test]
    fn dates_far_out_are_refused() {
        let date = |y| chrono::NaiveDate::from_ymd_opt(y, 1, 1).unwrap();
        assert!(super::plausible_date(&date(2027)).is_ok());
        assert!(super::plausible_date(&date(1999)).is_err());
        assert!(super::plausible_date(&date(262_000)).is_err());
    }
}
