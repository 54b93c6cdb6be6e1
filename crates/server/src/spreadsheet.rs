//! Writing export cells that a spreadsheet opens as data, never as a formula.
//!
//! A lead opens `responses.csv` in Excel, LibreOffice or Google Sheets, and a cell that starts
//! with `=`, `+`, `-` or `@` (or with a tab or carriage return, which the spreadsheet trims before
//! reading the rest) is run as a formula there: `=HYPERLINK("https://…"&A1,"…")` in a free-text
//! answer sends the neighbouring cells away when clicked. Following OWASP's advice on CSV
//! injection, every text cell that starts with one of those characters is written with a leading
//! `'`, which spreadsheets show as text and do not evaluate. A line feed is treated the same way.
//!
//! The cells are typed by column: a [`Cell::Text`] column is always neutralised; a
//! [`Cell::Number`] column holds numbers the service computed (counts, means, scores) or answers
//! that may be numbers (a Likert value, a negative number), and is written as is when the cell is
//! a plain decimal number (`-3`, `2.5`, `1e-3`), so that a negative figure stays a number; anything
//! else in it is neutralised as text. Every CSV export writes its lines through [`Columns::line`]
//! or [`text_line`], so no cell reaches a client unneutralised.

use std::borrow::Cow;

use actix_web::web::Bytes;

/// What a column holds, which decides how its cells are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// Text: neutralised whenever it starts with a character a spreadsheet reads as a formula.
    Text,
    /// A number when the cell reads as a plain decimal number; text (neutralised) otherwise.
    Number,
}

/// The columns of one CSV export: each header with the kind of its cells.
#[derive(Debug, Clone, Copy)]
pub struct Columns(pub &'static [(&'static str, Cell)]);

impl Columns {
    /// The header line.
    pub fn header(&self) -> Bytes {
        line(self.0.iter().map(|(name, _)| neutralised(name)))
    }

    /// One row, each cell written as its column says; a cell past the last column is text.
    pub fn line<S: AsRef<str>>(&self, fields: &[S]) -> Bytes {
        line(fields.iter().enumerate().map(|(index, field)| {
            let kind = self.0.get(index).map_or(Cell::Text, |(_, kind)| *kind);
            written(kind, field.as_ref())
        }))
    }
}

/// A row of text cells only, each neutralised.
pub fn text_line<S: AsRef<str>>(fields: &[S]) -> Bytes {
    line(fields.iter().map(|field| neutralised(field.as_ref())))
}

/// A cell as a column of `kind` writes it.
pub fn written(kind: Cell, cell: &str) -> Cow<'_, str> {
    match kind {
        Cell::Number if is_plain_number(cell) => Cow::Borrowed(cell),
        _ => neutralised(cell),
    }
}

/// The text with a leading `'` when a spreadsheet would otherwise read it as a formula (OWASP:
/// a first character of `=`, `+`, `-`, `@`, tab or carriage return; also a line feed).
pub fn neutralised(text: &str) -> Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\n') => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

/// Whether the cell is empty or a plain decimal number: an optional `-`, digits, an optional
/// fraction and an optional exponent. No spreadsheet reads such a cell as a formula.
fn is_plain_number(cell: &str) -> bool {
    let unsigned = cell.strip_prefix('-').unwrap_or(cell);
    if cell.is_empty() {
        return true;
    }
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    digits(whole) && fraction.is_none_or(digits) && exponent_ok
}

fn line<'a>(cells: impl Iterator<Item = Cow<'a, str>>) -> Bytes {
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    // Writing to memory cannot fail; a failure would only lose this one line.
    let _ = writer.write_record(cells.map(|cell| cell.into_owned()));
    Bytes::from(writer.into_inner().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_formula_start_is_neutralised_in_text() {
        for cell in ["=1+1", "+1+1", "-2+3", "@SUM(1)", "\t=1+1", "\r=1+1", "\n=1", "=HYPERLINK(\"http://x\")", "-2"] {
            assert_eq!(written(Cell::Text, cell), format!("'{cell}"), "{cell:?}");
        }
        for cell in ["Training", "", "1=Never; 2=Rarely", " =1", "'=1"] {
            assert_eq!(written(Cell::Text, cell), cell, "{cell:?} is left as it is");
        }
    }

    #[test]
    fn numbers_stay_numbers_and_anything_else_in_a_number_column_is_text() {
        for cell in ["-2", "0", "12", "2.5", "-0.125", "1e-3", "-4E+2", ""] {
            assert_eq!(written(Cell::Number, cell), cell, "{cell:?} is a number");
        }
        for cell in ["-2+3", "+1", "-", "-.5", "-1.", "-inf", "=1", "@A1", "-1e", "\t-2"] {
            assert_eq!(written(Cell::Number, cell), format!("'{cell}"), "{cell:?} is not a plain number");
        }
        for cell in ["NaN", "1.", "Training"] {
            assert_eq!(written(Cell::Number, cell), cell, "{cell:?} is text that no spreadsheet runs");
        }
    }

    #[test]
    fn lines_are_quoted_csv_with_neutralised_cells() {
        const COLUMNS: Columns = Columns(&[("respondent", Cell::Number), ("answer", Cell::Text)]);
        assert_eq!(COLUMNS.header(), Bytes::from("respondent,answer\n"));
        assert_eq!(
            COLUMNS.line(&["-3", "=HYPERLINK(\"x\",\"y\")", "+extra"]),
            Bytes::from("-3,\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\",'+extra\n")
        );
        assert_eq!(text_line(&["-3"]), Bytes::from("'-3\n"));
    }
}
