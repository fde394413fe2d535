//! A posted form's fields, as sent.
//!
//! A checkbox is sent only when ticked, so every boolean the page offers has a hidden `false` before its
//! checkbox: a field that is absent altogether was not offered, and the edit leaves it alone (a site admin's
//! form has no `admin_active`, which must not read as "set it to false").

use std::str::FromStr;

/// The fields of one form, in the order sent.
#[derive(Debug, Default)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn new(pairs: Vec<(String, String)>) -> Fields {
        Fields(pairs)
    }

    /// The last value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The trimmed value of `name`; empty counts as absent.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// A required field's trimmed value.
    pub fn required(&self, name: &str, label: &str) -> Result<&str, String> {
        self.text(name)
            .ok_or_else(|| format!("{label}: this field is required."))
    }

    /// A boolean: `None` when not offered; true when any value is `true` or `on` (the checkbox after its hidden
    /// `false`).
    pub fn flag(&self, name: &str) -> Option<bool> {
        let mut values = self
            .0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .peekable();
        values.peek()?;
        Some(values.any(|v| v == "true" || v == "on"))
    }

    /// A number, when given.
    pub fn number<T: FromStr>(&self, name: &str, label: &str) -> Result<Option<T>, String> {
        self.text(name)
            .map(|v| v.parse().map_err(|_| format!("{label}: {v:?} is not a number.")))
            .transpose()
    }
}

/// Percent-encodes a value for a query string.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        Fields::new(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn checkboxes_after_their_hidden_default() {
        let f = fields(&[("private", "false"), ("private", "true"), ("user_active", "false")]);
        assert_eq!(f.flag("private"), Some(true));
        assert_eq!(f.flag("user_active"), Some(false));
        assert_eq!(f.flag("admin_active"), None, "not offered: left alone");
    }

    #[test]
    fn numbers_and_required_fields() {
        let f = fields(&[("bandwidth", " 100 "), ("asn", ""), ("name", " "), ("max", "x")]);
        assert_eq!(f.number::<i64>("bandwidth", "Bandwidth"), Ok(Some(100)));
        assert_eq!(f.number::<i64>("asn", "ASN"), Ok(None));
        assert!(f.number::<i64>("max", "Max").unwrap_err().contains("not a number"));
        assert_eq!(
            f.required("name", "Name"),
            Err("Name: this field is required.".to_owned())
        );
        assert_eq!(encode("/host/1?x=a b"), "/host/1%3Fx%3Da%20b");
    }
}
