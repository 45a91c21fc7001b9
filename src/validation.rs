//! Input rules shared by several request bodies.

use validator::ValidationError;

/// Names must say something: not only white space.
pub fn not_blank(text: &str) -> Result<(), ValidationError> {
    if text.trim().is_empty() {
        return Err(ValidationError::new("blank").with_message("must not be blank".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn blank_text_is_refused() {
        assert!(super::not_blank("  \t").is_err());
        assert!(super::not_blank(" Kilmarnock ").is_ok());
    }
}
