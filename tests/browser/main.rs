//! The web page in a real browser: Debian's Chromium, driven through its
//! `WebDriver` (chromedriver) with fantoccini, against the service on a
//! loopback port (guide: The page). A person signs in, browses to an
//! Environment, compares two versions, restores with its dry run and
//! confirms, and sees the new version in the history; a form without its
//! CSRF token and a viewer's forged restore are refused; no page holds the
//! canary secret; axe-core finds no serious or critical violation on any
//! page; the page reads at 375 px without scrolling sideways. Each page's
//! screenshot is written under `target/screenshots/`.
//!
//! It needs `VALUESET_TEST_CHROMEDRIVER` (the chromedriver binary) and
//! `VALUESET_TEST_AXE` (axe-core's `axe.min.js`); without them it fails,
//! never skips. `scripts/browser-test-setup` installs both and prints them:
//!
//! ```sh
//! eval "$(scripts/browser-test-setup)"
//! cargo test --features http --test browser
//! ```

// A failed unwrap is a failed test, with its place in the message.
#![allow(clippy::unwrap_used)]
// One walk through the pages, step by step.
#![allow(clippy::too_many_lines)]

#[allow(dead_code)]
#[path = "../http/common.rs"]
mod common;
mod driver;

use common::{ADMIN, DEV, Server, VIEWER, shop_with_values};
use driver::Browser;
use std::time::Duration;

#[test]
fn a_person_browses_compares_and_restores() {
    // The service runs on its own runtime; the browser is driven from
    // another.
    let server = Server::start();
    shop_with_values(&server);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // The walk takes seconds; a browser that stops answering fails the
    // test (and its processes are killed) instead of holding CI.
    let walked = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(WALK_LIMIT), walk(&server)).await
    });
    assert!(
        walked.is_ok(),
        "the walk through the pages took over {WALK_LIMIT} s"
    );
}

/// How long the walk may take, in seconds (it takes about 8).
const WALK_LIMIT: u64 = 240;

async fn walk(server: &Server) {
    let b = Browser::start(&server.base).await;

    // Every page but the sign-in page sends there first.
    b.goto("/ui/apps/shop/history").await;
    assert!(b.url().await.ends_with("/ui/sign-in"));
    b.check("sign-in").await;
    b.sign_in("not-a-token").await;
    let refused = b.text().await;
    assert!(refused.contains("does not know that token"), "{refused}");
    b.sign_in(DEV).await;
    assert!(b.url().await.ends_with("/ui"));
    b.check("apps").await;

    // Down to an Environment's values, by the links.
    b.click_link("shop").await;
    b.check("app").await;
    b.click_link("Production").await;
    let values = b.text().await;
    assert!(values.contains("Values of Environment prod"), "{values}");
    assert!(values.contains("db.prod") && values.contains("override"));
    assert!(values.contains("secret (version 1)"));
    b.check("values").await;
    b.narrow("values-375px").await;

    // Two versions compared from the history.
    b.goto("/ui/apps/shop/history").await;
    b.check("history").await;
    b.click_link("Compare with a2").await;
    let diff = b.text().await;
    assert!(
        diff.contains("From App shop at a2 to App shop at a4"),
        "{diff}"
    );
    assert!(diff.contains("DB_HOST") && diff.contains("changed"));
    b.check("compare").await;
    // Two Environments, chosen in the form.
    b.goto("/ui/apps/shop/compare").await;
    b.choose("to_env", "prod").await;
    b.submit().await;
    let envs = b.text().await;
    assert!(
        envs.contains("db2.internal") && envs.contains("db.prod"),
        "{envs}"
    );

    // Restore: the dry run, then confirm; the new version is in the history.
    b.goto("/ui/apps/shop/version?id=a1").await;
    assert!(b.text().await.contains("db.internal"));
    b.check("version").await;
    b.click_link("Restore this version…").await;
    let preview = b.text().await;
    assert!(preview.contains("It would make version a5"), "{preview}");
    assert!(preview.contains("DB_PASSWORD removed"));
    b.check("restore").await;
    b.fill("comment", "back to the first one").await;
    b.submit().await;
    let history = b.text().await;
    assert!(history.contains("Made version a5."), "{history}");
    assert!(history.contains("back to the first one"));
    b.check("history-after-restore").await;

    // The same form without its CSRF token is refused, and nothing is made.
    b.goto("/ui/apps/shop/restore?version=a2").await;
    b.script("document.querySelector('form.confirm input[name=csrf]').remove()")
        .await;
    b.submit().await;
    let refused = b.text().await;
    assert!(refused.contains("CSRF"), "{refused}");
    assert_eq!(
        server
            .ok("GET", "/apps/shop/value-set-versions", None, 200)
            .as_array()
            .unwrap()
            .len(),
        4
    );
    b.check("refused").await;

    // A viewer has no restore button, and a forged restore is refused.
    b.sign_out().await;
    b.sign_in(VIEWER).await;
    b.goto("/ui/apps/shop/history").await;
    assert!(b.links("Restore…").await == 0 && b.links("Purge…").await == 0);
    assert_eq!(b.links("Compare with a2").await, 1);
    b.script(
        "const f = document.createElement('form'); f.method = 'post'; \
         f.action = '/ui/apps/shop/restore'; \
         for (const [n, v] of [['version', 'a1'], ['csrf', document.querySelector('input[name=csrf]').value]]) { \
           const i = document.createElement('input'); i.type = 'hidden'; i.name = n; i.value = v; f.appendChild(i); } \
         document.body.appendChild(f); f.submit();",
    )
    .await;
    b.wait_for_title("Forbidden").await;
    assert!(b.text().await.contains("forbidden"));
    assert_eq!(
        server
            .ok("GET", "/apps/shop/value-set-versions", None, 200)
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // An owner sees the purge's dry run.
    b.sign_out().await;
    b.sign_in(ADMIN).await;
    b.goto("/ui/apps/shop/history").await;
    assert!(b.links("Purge…").await > 0);
    b.goto("/ui/apps/shop/purge?version=a2&key=DB_PASSWORD")
        .await;
    let purge = b.text().await;
    assert!(purge.contains("cannot be undone"), "{purge}");
    assert!(purge.contains("secret (version 1)"));
    b.check("purge").await;

    // Every page looked at was read for the canary.
    assert!(b.pages_read() >= 12, "{}", b.pages_read());
    b.stop().await;
}
