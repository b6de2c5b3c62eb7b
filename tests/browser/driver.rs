//! A real Chromium through chromedriver: started on a free loopback port
//! with the flags this closed network needs, and the steps the walk takes,
//! each reading the page for the canary secret.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::common::CANARY;

/// Chromium's flags: headless, as root (no sandbox), and none of its
/// background connections, which this machine's network refuses.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
];

pub(crate) struct Browser {
    client: Client,
    driver: Child,
    base: String,
    axe: String,
    shots: PathBuf,
    profile: PathBuf,
    read: AtomicUsize,
}

fn required(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run `eval \"$(scripts/browser-test-setup)\"` first")
    })
}

impl Browser {
    /// Chromium on the service at `base`.
    pub(crate) async fn start(base: &str) -> Browser {
        let chromedriver = required("VALUESET_TEST_CHROMEDRIVER");
        let axe = std::fs::read_to_string(required("VALUESET_TEST_AXE")).unwrap();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut command = Command::new(&chromedriver);
        command
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let driver = command
            .spawn()
            .unwrap_or_else(|e| panic!("{chromedriver}: {e}"));
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        // Each look bounded, so that a chromedriver that took the
        // connection and never answered fails the test too.
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(2)))
            .build()
            .into();
        while agent.get(format!("{url}/status")).call().is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not come up on {url}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile =
            std::env::temp_dir().join(format!("valueset-chromium-{}-{port}", std::process::id()));
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| (*f).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let binary = std::env::var("VALUESET_TEST_CHROMIUM")
            .unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": binary, "args": args},
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("no Chromium session from {url}: {e}"));
        client
            .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
                Some(Duration::from_secs(60)),
                Some(Duration::from_secs(30)),
                Some(Duration::ZERO),
            ))
            .await
            .unwrap();
        let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .unwrap()
            .join("screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        Browser {
            client,
            driver,
            base: base.to_owned(),
            axe,
            shots,
            profile,
            read: AtomicUsize::new(0),
        }
    }

    pub(crate) async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    pub(crate) async fn url(&self) -> String {
        self.client.current_url().await.unwrap().to_string()
    }

    /// The page's text, after checking its HTML holds no canary.
    pub(crate) async fn text(&self) -> String {
        let source = self.client.source().await.unwrap();
        assert!(
            !source.contains(CANARY),
            "{} holds the canary",
            self.url().await
        );
        self.read.fetch_add(1, Ordering::Relaxed);
        self.client
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// How many pages were read for the canary.
    pub(crate) fn pages_read(&self) -> usize {
        self.read.load(Ordering::Relaxed)
    }

    pub(crate) async fn sign_in(&self, token: &str) {
        self.goto("/ui/sign-in").await;
        self.fill("token", token).await;
        self.submit().await;
    }

    pub(crate) async fn sign_out(&self) {
        self.goto("/ui").await;
        let button = self.client.find(Locator::Css("form.signout button")).await;
        self.leaving(button.unwrap().click()).await;
        assert!(self.url().await.ends_with("/ui/sign-in"));
    }

    pub(crate) async fn click_link(&self, text: &str) {
        let link = self.client.find(Locator::LinkText(text)).await;
        let here = self.url().await;
        let link = link.unwrap_or_else(|e| panic!("no link `{text}` on {here}: {e}"));
        self.leaving(link.click()).await;
    }

    /// How many links read `text`.
    pub(crate) async fn links(&self, text: &str) -> usize {
        self.client
            .find_all(Locator::LinkText(text))
            .await
            .unwrap()
            .len()
    }

    pub(crate) async fn fill(&self, name: &str, value: &str) {
        let field = self
            .client
            .find(Locator::Css(&format!("input[name={name}]")))
            .await
            .unwrap();
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    pub(crate) async fn choose(&self, name: &str, value: &str) {
        let select = self
            .client
            .find(Locator::Css(&format!("select[name={name}]")))
            .await
            .unwrap();
        select.select_by_value(value).await.unwrap();
    }

    /// Presses the main form's button, and waits for the page it brings.
    pub(crate) async fn submit(&self) {
        let button = self
            .client
            .find(Locator::Css("main form button[type=submit]"))
            .await;
        self.leaving(button.unwrap().click()).await;
    }

    /// Does `step`, then waits until the page it was on is gone.
    async fn leaving<T>(&self, step: impl Future<Output = Result<T, fantoccini::error::CmdError>>) {
        let old = self.client.find(Locator::Css("html")).await.unwrap();
        step.await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        // The old page's root goes stale once the new page is there.
        while old.tag_name().await.is_ok() {
            assert!(Instant::now() < deadline, "the page did not change");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(crate) async fn script(&self, js: &str) {
        self.client.execute(js, vec![]).await.unwrap();
    }

    pub(crate) async fn wait_for_title(&self, part: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.client.title().await.unwrap().contains(part) {
            assert!(Instant::now() < deadline, "no page titled `{part}`");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The page read for the canary, checked by axe-core (no serious or
    /// critical violation), and its screenshot kept as `NAME.png`.
    pub(crate) async fn check(&self, name: &str) {
        self.text().await;
        self.client.execute(&self.axe, vec![]).await.unwrap();
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {resultTypes: ['violations']})
                   .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.html)}))))
                   .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));",
                vec![],
            )
            .await
            .unwrap();
        let bad: Vec<&Value> = found
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        assert!(bad.is_empty(), "axe-core on {name}: {bad:#?}");
        self.shoot(name).await;
    }

    /// The page at 375 px wide: checked, without scrolling sideways.
    pub(crate) async fn narrow(&self, name: &str) {
        self.client.set_window_size(375, 812).await.unwrap();
        self.client.refresh().await.unwrap();
        let overflow = self
            .client
            .execute(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            overflow.as_i64(),
            Some(0),
            "{name} scrolls sideways at 375 px"
        );
        self.check(name).await;
        self.client.set_window_size(1280, 900).await.unwrap();
    }

    async fn shoot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    pub(crate) async fn stop(mut self) {
        self.client.clone().close().await.unwrap();
        self.kill();
    }

    fn kill(&mut self) {
        // chromedriver and the Chromium it started: their process group.
        // (procps' kill reads a group after `--` only: `kill -KILL -PGID`
        // answers 0 and kills nothing, which left Chromium running after
        // a failed walk.)
        #[cfg(unix)]
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.kill();
    }
}
