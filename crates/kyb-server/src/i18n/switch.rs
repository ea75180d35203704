//! The language switcher: every page links to `?lang=fr` (and the others) on its own address.
//! Such a GET is answered before routing: the choice goes into a cookie (a year, `/kyb` only)
//! and the browser is sent back to the page without the query, so that no address carries the
//! language and no form is sent again. Works without JavaScript.

use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::{Lang, LANG_COOKIE};
use crate::web::cookies::{set_cookie, CookieScope};
use crate::AppState;

/// The page a form's address belongs to: a page shown in answer to a form (an error on the
/// review, a confirmation) has the form's address, which has no page of its own to reload.
fn page_of(path: &str) -> String {
    if let Some(parent) = path.strip_suffix("/delete") {
        // `/kyb/flow/people/{id}/delete` → the list of people (documents alike).
        let list = parent.rsplit_once('/').map_or(parent, |(list, _)| list);
        return list.to_owned();
    }
    if let Some(token_page) = path.strip_suffix("/start") {
        return token_page.to_owned();
    }
    match path {
        "/kyb/flow/submit" => "/kyb/flow/review".to_owned(),
        "/kyb/flow/confirm" | "/kyb/flow/people/continue" => "/kyb/flow".to_owned(),
        _ => path.to_owned(),
    }
}

pub async fn remember_choice(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let chosen = (req.method() == Method::GET)
        .then(|| req.uri().query())
        .flatten()
        .and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "lang")
                .and_then(|(_, v)| Lang::parse(&v))
        });
    let Some(lang) = chosen else {
        return next.run(req).await;
    };
    let scope = CookieScope {
        path: "/kyb",
        same_site: "Lax",
    };
    let mut r = Redirect::to(&page_of(req.uri().path())).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            &state,
            &scope,
            LANG_COOKIE,
            lang.code(),
            Some(365 * 24 * 3600),
        ),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::page_of;

    #[test]
    fn a_forms_address_goes_back_to_its_page() {
        assert_eq!(page_of("/kyb/flow/people/per_1/delete"), "/kyb/flow/people");
        assert_eq!(
            page_of("/kyb/flow/documents/doc_1/delete"),
            "/kyb/flow/documents"
        );
        assert_eq!(page_of("/kyb/abc/start"), "/kyb/abc");
        assert_eq!(page_of("/kyb/flow/submit"), "/kyb/flow/review");
        assert_eq!(page_of("/kyb/flow/business"), "/kyb/flow/business");
    }
}
