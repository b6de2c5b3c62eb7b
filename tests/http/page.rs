//! The web page over HTTP, without a browser: sign-in and its cookie, the
//! security headers, what each page shows (never a secret's content), and
//! the forms that change something: CSRF, origin and role refusals.
//! `tests/browser` drives the same pages in a real Chromium.

use serde_json::json;

use crate::common::{ADMIN, CANARY, DEV, Server, VIEWER, shop_with_values};

/// A person with a browser: the session cookie it was given, no redirect
/// followed.
pub(crate) struct Person<'a> {
    server: &'a Server,
    agent: ureq::Agent,
    cookie: Option<String>,
}

pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    pub(crate) set_cookie: Option<String>,
    pub(crate) headers: ureq::http::HeaderMap,
    pub(crate) html: String,
}

impl Page {
    /// The CSRF token of the page's first form that carries one.
    fn csrf(&self) -> String {
        let at = self
            .html
            .find(r#"name="csrf" value=""#)
            .expect("a form with a CSRF token");
        let rest = &self.html[at + r#"name="csrf" value=""#.len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    }
}

impl<'a> Person<'a> {
    pub(crate) fn new(server: &'a Server) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        Person {
            server,
            agent,
            cookie: None,
        }
    }

    /// Signs in with `token`: the page answered.
    pub(crate) fn sign_in(&mut self, token: &str) -> Page {
        let page = self.post("/ui/sign-in", &[("token", token)], &[]);
        if let Some(set) = &page.set_cookie {
            let pair = set.split(';').next().unwrap();
            self.cookie = Some(pair.to_owned());
        }
        page
    }

    pub(crate) fn get(&self, path: &str) -> Page {
        let mut req = self.agent.get(format!("{}{path}", self.server.base));
        if let Some(c) = &self.cookie {
            req = req.header("Cookie", c);
        }
        read(req.call().unwrap())
    }

    pub(crate) fn post(&self, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Page {
        let mut req = self.agent.post(format!("{}{path}", self.server.base));
        if let Some(c) = &self.cookie {
            req = req.header("Cookie", c);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        read(req.send_form(form.iter().copied()).unwrap())
    }
}

fn read(mut response: ureq::http::Response<ureq::Body>) -> Page {
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(|h: &ureq::http::HeaderValue| h.to_str().unwrap().to_owned())
    };
    let (location, set_cookie) = (header("location"), header("set-cookie"));
    let headers = response.headers().clone();
    let html = response.body_mut().read_to_string().unwrap();
    assert!(!html.contains(CANARY), "a page held the canary");
    Page {
        status: response.status().as_u16(),
        location,
        set_cookie,
        headers,
        html,
    }
}

#[test]
fn signing_in_keeps_a_strict_cookie_and_never_the_token() {
    let s = Server::start();
    shop_with_values(&s);
    let mut p = Person::new(&s);
    // Without a session, every page sends to the sign-in page.
    for path in ["/ui", "/ui/apps/shop", "/ui/apps/shop/values?env=prod"] {
        let page = p.get(path);
        assert_eq!(
            (page.status, page.location.as_deref()),
            (303, Some("/ui/sign-in")),
            "{path}"
        );
    }
    let form = p.get("/ui/sign-in");
    assert_eq!(form.status, 200);
    assert!(form.html.contains(r#"type="password" name="token""#));
    // A wrong token: 401, no cookie.
    let wrong = p.sign_in("not-a-token");
    assert_eq!((wrong.status, wrong.set_cookie.as_deref()), (401, None));
    assert!(wrong.html.contains("does not know that token"));
    // The right one: a cookie that scripts cannot read and other sites
    // cannot send, holding no token.
    let ok = p.sign_in(ADMIN);
    assert_eq!((ok.status, ok.location.as_deref()), (303, Some("/ui")));
    let cookie = ok.set_cookie.unwrap();
    assert!(cookie.starts_with("valueset_session="), "{cookie}");
    for part in [
        "; Path=/ui",
        "; HttpOnly",
        "; SameSite=Strict",
        "; Max-Age=28800",
    ] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Secure"));
    assert!(!cookie.contains(ADMIN));
    // It ends 8 hours from now (the default), as the cookie itself says.
    let value = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("valueset_session=");
    let ends: u64 = value.split('.').next().unwrap().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(ends.abs_diff(now + 8 * 3600) < 120, "{ends} {now}");
    let apps = p.get("/ui");
    assert_eq!(apps.status, 200);
    assert!(apps.html.contains(r#"href="/ui/apps/shop""#));
    assert!(apps.html.contains("Signed in as <strong>root</strong>"));
    // Every page carries the security headers, and is not cached.
    for (name, value) in [
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
        ("x-content-type-options", "nosniff"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(apps.headers[name], value, "{name}");
    }
    let csp = apps.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.starts_with("default-src 'none'; style-src 'self'"),
        "{csp}"
    );
    assert!(
        csp.contains("frame-ancestors 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    assert!(!apps.html.contains("<script"));
    let style = p.get("/ui/style.css");
    assert_eq!(style.headers["content-type"], "text/css; charset=utf-8");
    // A changed cookie is no session.
    let mut forged = Person::new(&s);
    forged.cookie = Some(format!("{}0", p.cookie.clone().unwrap()));
    assert_eq!(forged.get("/ui").status, 303);
    // Signing out needs the page's CSRF token, then drops the cookie.
    assert_eq!(p.post("/ui/sign-out", &[], &[]).status, 403);
    let out = p.post("/ui/sign-out", &[("csrf", &apps.csrf())], &[]);
    assert_eq!(
        (out.status, out.location.as_deref()),
        (303, Some("/ui/sign-in"))
    );
    assert!(out.set_cookie.unwrap().contains("Max-Age=0"));
}

#[test]
fn pages_show_values_history_versions_and_differences() {
    let s = Server::start();
    shop_with_values(&s);
    let mut p = Person::new(&s);
    p.sign_in(DEV);
    let app = p.get("/ui/apps/shop");
    assert!(
        app.html
            .contains(r#"href="/ui/apps/shop/values?env=prod">Production</a>"#),
        "{}",
        app.html
    );
    let prod = p.get("/ui/apps/shop/values?env=prod");
    assert_eq!(prod.status, 200);
    assert!(prod.html.contains("<h1>Values of Environment prod</h1>"));
    assert!(
        prod.html
            .contains(r#"<a href="/ui/apps/shop/history?env=prod">History</a>"#)
    );
    // The way back up, level by level.
    assert!(prod.html.contains(
        r#"<nav aria-label="Breadcrumb"><ol><li><a href="/ui">Apps</a></li><li><a href="/ui/apps/shop">shop</a></li><li><a href="/ui/apps/shop/values?env=prod">Environment prod</a></li></ol></nav>"#
    ));
    // The override, where it comes from, and the secret by its version.
    assert!(
        prod.html
            .contains("db.prod</code></td><td data-label=\"From\">override</td>"),
        "{}",
        prod.html
    );
    assert!(
        prod.html
            .contains("secret (version 1)</span></td><td data-label=\"From\">App</td>")
    );
    let history = p.get("/ui/apps/shop/history");
    assert!(history.html.contains(r#"<td data-label="Who">root</td>"#));
    assert!(history.html.contains("<code>DB_HOST</code> changed"));
    assert!(
        history
            .html
            .contains("<code>DB_PASSWORD</code> added (secret version 1)")
    );
    // A developer restores, but does not purge.
    assert!(history.html.contains("Restore…") && !history.html.contains("Purge…"));
    assert!(
        history
            .html
            .contains(r#"href="/ui/apps/shop/compare?from=a2&amp;to=a4""#),
        "{}",
        history.html
    );
    let version = p.get("/ui/apps/shop/version?id=a1");
    assert!(
        version
            .html
            .contains(r#"db.internal</code></td><td data-label="From">App</td>"#),
        "{}",
        version.html
    );
    assert!(!version.html.contains("DB_PASSWORD"));
    let diff = p.get("/ui/apps/shop/compare?from=a1&to=a4");
    assert!(
        diff.html
            .contains("<tr class=\"changed\"><th scope=\"row\"><code>DB_HOST</code>"),
        "{}",
        diff.html
    );
    assert!(
        diff.html
            .contains("<tr class=\"added\"><th scope=\"row\"><code>DB_PASSWORD</code>")
    );
    // The form alone until it is sent; one field is enough to send it.
    let empty = p.get("/ui/apps/shop/compare");
    assert!(!empty.html.contains("<table") && !empty.html.contains("No differences"));
    for one in ["to_env=prod", "from=a1", "to=a1", "from_env=prod"] {
        let page = p.get(&format!("/ui/apps/shop/compare?{one}"));
        assert!(
            page.html.contains("<table") || page.html.contains("No differences"),
            "{one}"
        );
    }
    // An Environment's history compares its own versions.
    let again = json!({"value": "db3.prod", "description": null, "is_secret": false});
    s.ok(
        "PUT",
        "/apps/shop/envs/prod/values/DB_HOST",
        Some(again),
        200,
    );
    let prod_history = p.get("/ui/apps/shop/history?env=prod");
    assert!(
        prod_history.html.contains(
            r#"href="/ui/apps/shop/compare?from=e4&amp;to=e5&amp;from_env=prod&amp;to_env=prod""#
        ),
        "{}",
        prod_history.html
    );
    assert!(
        prod_history
            .html
            .contains(r#"href="/ui/apps/shop/restore?version=e5&amp;env=prod">Restore…"#)
    );
    // An App change that came into the Environment says where from.
    assert!(
        prod_history
            .html
            .contains(r#"(from App version <a href="/ui/apps/shop/version?id=a4">a4</a>)"#)
    );
    // Two Environments, chosen in the form.
    let envs = p.get("/ui/apps/shop/compare?from_env=&from=&to_env=prod&to=");
    assert!(
        envs.html.contains("db2.internal") && envs.html.contains("db3.prod"),
        "{}",
        envs.html
    );
    assert!(envs.html.contains(r#"<option value="prod" selected>"#));
    // Bad input in the address: a page that says so, with its status.
    for (path, status) in [
        ("/ui/apps/Bad!/values", 400),
        ("/ui/apps/%00/values", 400),
        ("/ui/apps/..%2F..%2Fetc/values", 400),
        ("/ui/apps/shop/values?env=%00", 400),
        ("/ui/apps/shop/values?env=%FF", 400),
        ("/ui/apps/shop/version?id=%00", 400),
        ("/ui/apps/nope/values", 403),
        ("/ui/apps/shop/values?env=nope", 404),
        ("/ui/apps/shop/version?id=zz", 400),
        ("/ui/apps/shop/version?id=a99", 404),
        ("/ui/apps/shop/compare?from=a1&to=bad%21", 400),
        ("/ui/apps/shop/compare?from=a1&to=release-9", 404),
        // A tag that begins like a version id is still a tag.
        ("/ui/apps/shop/compare?from=a1&to=approved", 404),
        ("/ui/apps/shop/compare?from=a1&to=e", 404),
        ("/ui/apps/shop/history?before=x", 400),
    ] {
        let page = p.get(path);
        assert_eq!(page.status, status, "{path}: {}", page.html);
        assert!(page.html.contains(r#"<p role="alert">"#), "{path}");
    }
}

#[test]
fn restore_shows_its_dry_run_then_needs_the_forms_token() {
    let s = Server::start();
    shop_with_values(&s);
    let mut p = Person::new(&s);
    p.sign_in(DEV);
    let preview = p.get("/ui/apps/shop/restore?version=a1");
    assert_eq!(preview.status, 200, "{}", preview.html);
    assert!(
        preview
            .html
            .contains("It would make version <strong>a5</strong>"),
        "{}",
        preview.html
    );
    assert!(preview.html.contains("<code>DB_HOST</code> changed"));
    assert!(preview.html.contains("<code>DB_PASSWORD</code> removed"));
    // The confirmation carries the version the dry run saw.
    assert!(preview.html.contains(r#"name="expect" value="a4""#));
    // One key restores that key alone.
    let one_key = p.get("/ui/apps/shop/restore?version=a1&key=DB_HOST");
    assert!(one_key.html.contains("<code>DB_HOST</code> changed"));
    assert!(!one_key.html.contains("DB_PASSWORD"), "{}", one_key.html);
    // The dry run wrote nothing.
    assert_eq!(
        s.ok("GET", "/apps/shop/value-set-versions", None, 200)
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let token = preview.csrf();
    let form = [
        ("version", "a1"),
        ("expect", "a4"),
        ("comment", "back to one"),
        ("csrf", token.as_str()),
    ];
    // Without its token, with another, or from another site: refused.
    for (fields, headers) in [
        (&form[..3], &[][..]),
        (
            &[("version", "a1"), ("csrf", "0".repeat(64).as_str())][..],
            &[][..],
        ),
        (&form[..], &[("Origin", "http://evil.example")][..]),
    ] {
        let page = p.post("/ui/apps/shop/restore", fields, headers);
        assert_eq!(page.status, 403, "{}", page.html);
        assert!(page.html.contains("CSRF"));
    }
    assert_eq!(
        s.ok("GET", "/apps/shop/value-set-versions", None, 200)
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let made = p.post("/ui/apps/shop/restore", &form, &[]);
    assert_eq!(
        (made.status, made.location.as_deref()),
        (303, Some("/ui/apps/shop/history?made=a5")),
        "{}",
        made.html
    );
    let history = p.get("/ui/apps/shop/history?made=a5");
    assert!(history.html.contains("Made version"));
    assert!(
        history
            .html
            .contains(r#"<td data-label="Comment">back to one</td>"#)
    );
    assert!(history.html.contains("restored"));
    // The same confirmation again: the level moved on since its dry run.
    let again = p.post("/ui/apps/shop/restore", &form, &[]);
    assert_eq!(again.status, 409, "{}", again.html);
    assert!(again.html.contains("changed since"), "{}", again.html);
    // One key, in an Environment.
    assert!(
        preview
            .html
            .contains(r#"<a href="/ui/apps/shop/history">Cancel</a>"#)
    );
    let one = p.get("/ui/apps/shop/restore?env=prod&version=e3&key=DB_HOST");
    assert!(
        one.html
            .contains("key <code>DB_HOST</code> of Environment prod"),
        "{}",
        one.html
    );
    assert!(
        one.html.contains(r#"name="env" value="prod""#)
            && one.html.contains(r#"name="key" value="DB_HOST""#)
    );
}

#[test]
fn a_viewer_sees_no_buttons_and_a_forged_restore_is_refused() {
    let s = Server::start();
    shop_with_values(&s);
    let mut viewer = Person::new(&s);
    viewer.sign_in(VIEWER);
    let history = viewer.get("/ui/apps/shop/history");
    assert_eq!(history.status, 200);
    assert!(!history.html.contains("Restore") && !history.html.contains("Purge"));
    // Nor a dry run to confirm.
    let preview = viewer.get("/ui/apps/shop/restore?version=a1");
    assert_eq!(preview.status, 403);
    assert!(!preview.html.contains(r#"<form class="confirm""#));
    assert_eq!(
        viewer
            .get("/ui/apps/shop/purge?version=a1&key=DB_HOST")
            .status,
        403
    );
    // The viewer's own valid CSRF token, posted by hand: the store says no.
    let forged = viewer.post(
        "/ui/apps/shop/restore",
        &[("version", "a1"), ("csrf", &history.csrf())],
        &[],
    );
    assert_eq!(forged.status, 403, "{}", forged.html);
    assert!(forged.html.contains("forbidden"));
    assert_eq!(
        s.ok("GET", "/apps/shop/value-set-versions", None, 200)
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn purge_shows_what_it_removes_then_removes_it() {
    let s = Server::start();
    shop_with_values(&s);
    let mut owner = Person::new(&s);
    owner.sign_in(ADMIN);
    let history = owner.get("/ui/apps/shop/history");
    assert!(
        history
            .html
            .contains(r#"href="/ui/apps/shop/purge?version=a1&amp;key=DB_HOST""#),
        "{}",
        history.html
    );
    let preview = owner.get("/ui/apps/shop/purge?version=a1&key=DB_HOST");
    assert_eq!(preview.status, 200, "{}", preview.html);
    assert!(preview.html.contains("cannot be undone"));
    assert!(preview.html.contains("db.internal"));
    assert!(
        preview
            .html
            .contains(r#"href="/ui/apps/shop/version?id=a2">a2</a>"#)
    );
    let purge = [
        ("version", "a1"),
        ("key", "DB_HOST"),
        ("expect", "a4"),
        ("comment", "leaked"),
        ("csrf", &preview.csrf()),
    ];
    let made = owner.post("/ui/apps/shop/purge", &purge, &[]);
    assert_eq!(made.status, 303, "{}", made.html);
    let version = owner.get("/ui/apps/shop/version?id=a1");
    assert!(
        version
            .html
            .contains(r#"<span class="purged">purged</span>"#)
    );
    assert!(!version.html.contains("db.internal"));
    // The current value cannot be purged: the rule's refusal, as a page.
    let current = owner.get("/ui/apps/shop/purge?version=a4&key=DB_HOST");
    assert_eq!(current.status, 400, "{}", current.html);
    // A purge names a key.
    assert_eq!(owner.get("/ui/apps/shop/purge?version=a1").status, 400);
}

#[test]
fn a_long_history_comes_a_page_at_a_time() {
    let s = Server::start();
    s.shop();
    let first = json!({"key": "N", "value": "0", "description": null, "is_secret": false});
    s.ok("POST", "/apps/shop/values", Some(first), 201);
    for n in 1..22 {
        let next = json!({"value": n.to_string(), "description": null, "is_secret": false});
        s.ok("PUT", "/apps/shop/values/N", Some(next), 200);
    }
    let mut p = Person::new(&s);
    p.sign_in(VIEWER);
    let rows = |page: &Page| page.html.matches(r#"<tr><th scope="row">"#).count();
    let newest = p.get("/ui/apps/shop/history");
    assert_eq!(rows(&newest), 20);
    // Every version but the oldest shown is compared with the one before.
    assert_eq!(newest.html.matches("Compare with").count(), 20);
    assert!(
        newest
            .html
            .contains(r#"href="/ui/apps/shop/history?before=a3">Older versions</a>"#),
        "{}",
        newest.html
    );
    let older = p.get("/ui/apps/shop/history?before=a3");
    assert_eq!(rows(&older), 2);
    assert!(
        older
            .html
            .contains(r#"href="/ui/apps/shop/version?id=a1">a1</a>"#)
    );
    assert!(!older.html.contains("Older versions"));
    assert_eq!(older.html.matches("Compare with").count(), 1);
}

#[test]
fn guessing_tokens_at_the_sign_in_page_is_refused_for_a_while() {
    let mut options = valueset::http::ServiceOptions::default();
    options.failed_tokens = 2;
    let s = Server::with_options(options);
    let mut p = Person::new(&s);
    for _ in 0..2 {
        assert_eq!(p.sign_in("guess").status, 401);
    }
    let refused = p.sign_in(ADMIN);
    assert_eq!((refused.status, refused.set_cookie), (429, None));
    assert!(refused.html.contains("too often"), "{}", refused.html);
    let wait: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait));
    // The API counts the same guesses.
    assert_eq!(s.call("GET", "/orgs/acme/apps", ADMIN, None).status, 429);
}
