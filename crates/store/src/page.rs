//! Cursor pages for lists that grow. A cursor is the opaque, URL-safe encoding of the sort key
//! of the last row a caller saw; the next page starts after it (keyset pagination, stable under
//! inserts).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use orb_domain::Error;

/// Rows per page when the caller does not say.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Most rows a page may hold.
pub const MAX_PAGE_SIZE: u64 = 100;

/// A validated request for one page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows wanted, 1..=MAX_PAGE_SIZE.
    pub first: u64,
    /// Sort key of the last row already seen.
    pub after: Option<String>,
}

impl PageRequest {
    /// Parses the `first` and `after` arguments of a connection field.
    pub fn parse(first: Option<i32>, after: Option<&str>) -> Result<Self, Error> {
        let first = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if n >= 1 && (n as u64) <= MAX_PAGE_SIZE => n as u64,
            Some(_) => return Err(Error::invalid("first", format!("must be between 1 and {MAX_PAGE_SIZE}"))),
        };
        let after = after.map(decode_cursor).transpose()?;
        Ok(Self { first, after })
    }

    /// The sort key of the last row seen, read as the type the list sorts by.
    pub fn after_key<K: std::str::FromStr>(&self) -> Result<Option<K>, Error> {
        self.after.as_deref().map(|key| key.parse().map_err(|_| not_a_cursor())).transpose()
    }

    /// Rows to fetch: one more than wanted, to learn whether another page follows.
    pub fn limit(&self) -> u64 {
        self.first + 1
    }
}

/// One page of rows.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The rows, in order.
    pub items: Vec<T>,
    /// Whether more rows follow.
    pub has_next_page: bool,
}

impl<T> Page<T> {
    /// Cuts the `limit()` rows fetched for `request` down to one page.
    pub fn from_fetched(mut rows: Vec<T>, request: &PageRequest) -> Self {
        let has_next_page = rows.len() as u64 > request.first;
        rows.truncate(request.first as usize);
        Self { items: rows, has_next_page }
    }
}

/// The SQL and values of a query reading the first `limit` rows of `table` for each of
/// `parents` (the values of `parent_column`) in `order` at once, for batched loading of one
/// page per parent: `row_number()` over each parent's rows in the page's own order.
pub(crate) fn first_rows_of_each(
    table: &str,
    parent_column: &str,
    order: &str,
    parents: &[uuid::Uuid],
    limit: u64,
) -> (String, Vec<sea_orm::Value>) {
    let placeholders: Vec<String> = (1..=parents.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT t.* FROM {table} t JOIN (SELECT {parent_column}, id, row_number() OVER \
         (PARTITION BY {parent_column} ORDER BY {order}) AS place FROM {table} WHERE {parent_column} IN ({})) ranked \
         ON ranked.{parent_column} = t.{parent_column} AND ranked.id = t.id \
         WHERE ranked.place <= {limit} ORDER BY ranked.{parent_column}, ranked.place",
        placeholders.join(", ")
    );
    (sql, parents.iter().map(|id| (*id).into()).collect())
}

/// Encodes a sort key as an opaque cursor.
pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}

fn decode_cursor(cursor: &str) -> Result<String, Error> {
    URL_SAFE_NO_PAD
        .decode(cursor.as_bytes())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(not_a_cursor)
}

/// The refusal of a cursor this service did not give out.
pub fn not_a_cursor() -> Error {
    Error::invalid("after", "is not a cursor this list gave out")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_pages_are_bounded() {
        let cursor = encode_cursor("los-angeles");
        assert_eq!(PageRequest::parse(Some(5), Some(&cursor)).map(|p| p.after), Ok(Some("los-angeles".into())));
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(101), None).is_err());
        assert!(PageRequest::parse(None, Some("%%%")).is_err());
        let page = Page::from_fetched(vec![1, 2, 3], &PageRequest { first: 2, after: None });
        assert_eq!((page.items, page.has_next_page), (vec![1, 2], true));
    }
}
