//! `GET /privacy` and `GET /terms`: the legal texts, filled with the operator's details.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::document::{FilledBlock, FilledDocument, Span};
use crate::error::WebError;
use crate::lang::RequestLang;
use crate::page::{html, Chrome, PageId};
use crate::site::{InventoryEntry, Site};

#[derive(Template)]
#[template(path = "document.html")]
struct DocumentPage<'a> {
    page: Chrome,
    doc: &'a FilledDocument,
    inventory: &'a [InventoryEntry],
}

pub async fn privacy(State(site): State<Site>, lang: RequestLang) -> Result<Response, WebError> {
    let doc = site.privacy(lang.lang);
    render(&site, lang, PageId::Privacy, doc)
}

pub async fn terms(State(site): State<Site>, lang: RequestLang) -> Result<Response, WebError> {
    let doc = site.terms(lang.lang);
    render(&site, lang, PageId::Terms, doc)
}

fn render(
    site: &Site,
    lang: RequestLang,
    id: PageId,
    doc: &FilledDocument,
) -> Result<Response, WebError> {
    let page = DocumentPage {
        page: Chrome::new(site, lang, id, &doc.title),
        doc,
        inventory: site.inventory(lang.lang),
    };
    html(StatusCode::OK, &page)
}
