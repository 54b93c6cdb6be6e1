//! Cursor connections (Relay style) over the store's pages.

use async_graphql::OutputType;
use async_graphql::connection::{Connection, Edge, EmptyFields};
use orb_store::Page;

/// A connection whose edges carry the cursor `cursor` gives each row.
pub fn connection<M, N: OutputType>(
    page: Page<M>,
    had_cursor: bool,
    cursor: impl Fn(&M) -> String,
    node: impl Fn(M) -> N,
) -> Connection<String, N, EmptyFields, EmptyFields> {
    let mut conn = Connection::new(had_cursor, page.has_next_page);
    conn.edges.extend(page.items.into_iter().map(|m| Edge::new(cursor(&m), node(m))));
    conn
}
