//! The templates, compiled once at start-up from text embedded in the binary, and the stylesheet.

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, Value, context};

use super::who_value;
use crate::accounts::SignedIn;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("index.html", include_str!("templates/index.html")),
    ("login.html", include_str!("templates/login.html")),
    ("message.html", include_str!("templates/message.html")),
    ("sites.html", include_str!("templates/sites.html")),
    ("site_form.html", include_str!("templates/site_form.html")),
    ("site_new.html", include_str!("templates/site_new.html")),
    ("site.html", include_str!("templates/site.html")),
    ("host_form.html", include_str!("templates/host_form.html")),
    ("host_new.html", include_str!("templates/host_new.html")),
    ("host.html", include_str!("templates/host.html")),
    ("audit.html", include_str!("templates/audit.html")),
    ("admin.html", include_str!("templates/admin.html")),
    ("mirrors.html", include_str!("templates/mirrors.html")),
    ("statistics.html", include_str!("templates/statistics.html")),
    ("propagation.html", include_str!("templates/propagation.html")),
    ("map.html", include_str!("templates/map.html")),
    ("network.html", include_str!("templates/network.html")),
];

const STYLE: &str = include_str!("static/style.css");

/// The compiled templates.
pub struct Pages {
    env: Environment<'static>,
}

impl Pages {
    /// Compiles every template; a syntax error is the binary's bug, found by the tests that render each page.
    pub fn new() -> Result<Pages, minijinja::Error> {
        let mut env = Environment::new();
        for (name, text) in TEMPLATES {
            env.add_template(name, text)?;
        }
        Ok(Pages { env })
    }

    /// Renders `template` with `ctx` and the header's `who`; a rendering failure is logged and answered 500.
    pub fn render(&self, status: StatusCode, template: &str, who: Option<&SignedIn>, ctx: Value) -> Response {
        let ctx = context! { who => who_value(who), ..ctx };
        match self.env.get_template(template).and_then(|t| t.render(ctx)) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => super::internal(&format!("rendering {template}: {e:#}")),
        }
    }

    /// A page that only says something.
    pub fn message(&self, status: StatusCode, who: Option<&SignedIn>, heading: &str, text: &str) -> Response {
        self.render(status, "message.html", who, context! { heading, text })
    }
}

/// `GET /static/style.css`.
pub(super) async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}
