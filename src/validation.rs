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
}
