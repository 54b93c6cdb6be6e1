//! The GraphiQL page, served on `GET /graphql` only where the `graphiql` setting turns it on
//! (unset: on in development and under `orb serve --demo`, off in production).
//!
//! Users paste access tokens into this page, so what it runs is pinned: GraphiQL 4.1.2 and
//! React 18.3.1 at exact versions from unpkg, each with a Subresource Integrity hash (a changed
//! file is refused by the browser), and a `Content-Security-Policy` that lets the page run its
//! own inline script (by hash) and those files, talk only to this origin, and be framed by no
//! one. The hashes are of the files in the npm packages, which unpkg serves byte for byte.

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// One pinned script or stylesheet: its URL and integrity.
pub struct Asset {
    /// The exact-version URL.
    pub url: &'static str,
    /// Its `integrity` (`sha384-…`).
    pub integrity: &'static str,
}

/// React, React DOM and GraphiQL, in load order.
pub const SCRIPTS: [Asset; 3] = [
    Asset {
        url: "https://unpkg.com/react@18.3.1/umd/react.production.min.js",
        integrity: "sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z",
    },
    Asset {
        url: "https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js",
        integrity: "sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1",
    },
    Asset {
        url: "https://unpkg.com/graphiql@4.1.2/graphiql.min.js",
        integrity: "sha384-9XdHu7ajgGJziD4J1zNBKQ842Q/+zZfDv+ib1eMhZWBH6hPAs806x+Jbcf0yNO6B",
    },
];

/// GraphiQL's stylesheet.
pub const STYLESHEET: Asset = Asset {
    url: "https://unpkg.com/graphiql@4.1.2/graphiql.min.css",
    integrity: "sha384-1el1QShFBnnXTx9x/Cprg82hZWKt0ry29OAYIXt05swbi0KcZDFoj0CWguMpopJr",
};

/// The page's own script: GraphiQL against `/graphql` on this origin.
const BOOT: &str = "ReactDOM.createRoot(document.getElementById('graphiql')).render(\
React.createElement(GraphiQL, { fetcher: GraphiQL.createFetcher({ url: new URL('/graphql', window.location.origin).toString() }), \
defaultEditorToolsVisibility: true }));";

/// The page and its `Content-Security-Policy`, built once.
pub struct Page {
    /// The HTML.
    pub html: String,
    /// The header's value.
    pub content_security_policy: String,
}

impl Page {
    /// Builds the page.
    pub fn new() -> Self {
        let boot_hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(BOOT.as_bytes()));
        let scripts: String = SCRIPTS
            .iter()
            .map(|s| {
                format!(
                    "    <script src=\"{}\" integrity=\"{}\" crossorigin=\"anonymous\"></script>\n",
                    s.url, s.integrity
                )
            })
            .collect();
        let html = format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n  <head>\n    <meta charset=\"utf-8\">\n    \
             <meta name=\"robots\" content=\"noindex\">\n    <title>orb GraphiQL</title>\n    \
             <link rel=\"stylesheet\" href=\"{css}\" integrity=\"{css_integrity}\" crossorigin=\"anonymous\">\n  \
             </head>\n  <body style=\"margin:0\">\n    <div id=\"graphiql\" style=\"height:100vh\">Loading GraphiQL from unpkg.com…</div>\n\
             {scripts}    <script>{BOOT}</script>\n  </body>\n</html>\n",
            css = STYLESHEET.url,
            css_integrity = STYLESHEET.integrity,
        );
        let content_security_policy = format!(
            "default-src 'none'; script-src 'sha256-{boot_hash}' https://unpkg.com; \
             style-src 'unsafe-inline' https://unpkg.com; img-src 'self' data:; font-src https://unpkg.com data:; \
             connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        );
        Self { html, content_security_policy }
    }
}

impl Default for Page {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_is_pinned_with_integrity_and_the_inline_one_is_allowed_by_hash_only() {
        let page = Page::new();
        for asset in SCRIPTS.iter().chain([&STYLESHEET]) {
            assert!(
                asset.url.contains("@18.3.1/") || asset.url.contains("@4.1.2/"),
                "{} is an exact version",
                asset.url
            );
            assert!(page.html.contains(&format!("\"{}\" integrity=\"{}\"", asset.url, asset.integrity)));
        }
        let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(BOOT.as_bytes()));
        assert!(page.content_security_policy.contains(&format!("'sha256-{digest}'")));
        assert!(!page.content_security_policy.contains("'unsafe-eval'"));
        assert!(!page.content_security_policy.contains("script-src 'unsafe-inline'"));
    }
}
