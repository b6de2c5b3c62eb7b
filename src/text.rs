//! Showing input that was refused, in error messages, without echoing it
//! whole: the one text helper every layer's errors share.

use std::fmt;

/// Shows rejected input in a message: control characters escaped, and cut
/// after 64 characters so that a value pasted by mistake is not echoed whole.
pub(crate) struct Shown<'a>(pub(crate) &'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 64;
        for (i, c) in self.0.chars().enumerate() {
            if i == MAX {
                return f.write_str("…");
            }
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                fmt::Write::write_char(f, c)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_cuts_and_escapes() {
        assert_eq!(Shown("a\nb").to_string(), "a\\nb");
        let long = "x".repeat(100);
        assert_eq!(Shown(&long).to_string(), format!("{}…", "x".repeat(64)));
    }
}
