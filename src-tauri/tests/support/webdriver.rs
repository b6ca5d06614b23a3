//! A minimal W3C WebDriver client (blocking, JSON over HTTP) for WebKitWebDriver: enough to
//! find elements, click, type, run scripts, move the pointer and take screenshots.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// W3C element reference key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Driver {
    agent: ureq::Agent,
    base: String,
    session: String,
}

#[derive(Clone, Debug)]
pub struct Element(pub String);

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

fn read(mut r: ureq::http::Response<ureq::Body>) -> Result<Value, String> {
    let status = r.status();
    let text = r
        .body_mut()
        .with_config()
        .limit(256 << 20)
        .read_to_string()
        .map_err(|e| format!("reading the WebDriver reply: {e}"))?;
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| format!("bad JSON from WebDriver ({e}): {text}"))?;
    if !status.is_success() {
        return Err(format!("WebDriver {status}: {}", v["value"]));
    }
    Ok(v["value"].clone())
}

impl Driver {
    /// Ask the driver on `port` for a session running `binary`.
    pub fn start(port: u16, binary: &str, timeout: Duration) -> Result<Driver, String> {
        let agent = agent();
        let base = format!("http://127.0.0.1:{port}");
        let caps = json!({
            "capabilities": { "alwaysMatch": {
                "webkitgtk:browserOptions": { "binary": binary, "args": ["--automation"] }
            }}
        });
        let deadline = Instant::now() + timeout;
        loop {
            match agent.post(format!("{base}/session")).send_json(&caps) {
                Ok(r) => {
                    let v = read(r)?;
                    let session = v["sessionId"]
                        .as_str()
                        .ok_or_else(|| format!("no session id in {v}"))?
                        .to_string();
                    return Ok(Driver {
                        agent,
                        base,
                        session,
                    });
                }
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => return Err(format!("WebDriver on port {port} did not answer: {e}")),
            }
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{}", self.base, self.session, path)
    }

    fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        let r = self
            .agent
            .post(self.url(path))
            .send_json(&body)
            .map_err(|e| format!("POST {path}: {e}"))?;
        read(r)
    }

    fn get(&self, path: &str) -> Result<Value, String> {
        let r = self
            .agent
            .get(self.url(path))
            .call()
            .map_err(|e| format!("GET {path}: {e}"))?;
        read(r)
    }

    /// How long an asynchronous script may run (WebDriver's default is 30 s).
    pub fn set_script_timeout(&self, t: Duration) -> Result<(), String> {
        self.post("/timeouts", json!({"script": t.as_millis() as u64}))
            .map(|_| ())
    }

    pub fn quit(&self) {
        let _ = self.agent.delete(self.url("")).call();
    }

    pub fn find_all(&self, css: &str) -> Result<Vec<Element>, String> {
        let v = self.post("/elements", json!({"using": "css selector", "value": css}))?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(|s| Element(s.to_string())))
                    .collect()
            })
            .unwrap_or_default())
    }

    pub fn find(&self, css: &str) -> Result<Element, String> {
        let v = self.post("/element", json!({"using": "css selector", "value": css}))?;
        v[ELEMENT]
            .as_str()
            .map(|s| Element(s.to_string()))
            .ok_or_else(|| format!("no element {css}: {v}"))
    }

    /// Wait until `css` matches, then return the first match.
    pub fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let err = match self.find(css) {
                Ok(e) => return Ok(e),
                Err(e) => e,
            };
            if Instant::now() > deadline {
                return Err(format!(
                    "timed out after {timeout:?} waiting for {css} (last: {err})"
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn click(&self, e: &Element) -> Result<(), String> {
        self.post(&format!("/element/{}/click", e.0), json!({}))
            .map(|_| ())
    }

    pub fn click_css(&self, css: &str) -> Result<(), String> {
        let e = self.wait_for(css, Duration::from_secs(10))?;
        self.click(&e)
    }

    pub fn send_keys(&self, e: &Element, text: &str) -> Result<(), String> {
        self.post(&format!("/element/{}/value", e.0), json!({"text": text}))
            .map(|_| ())
    }

    pub fn clear(&self, e: &Element) -> Result<(), String> {
        self.post(&format!("/element/{}/clear", e.0), json!({}))
            .map(|_| ())
    }

    pub fn text(&self, e: &Element) -> Result<String, String> {
        Ok(self
            .get(&format!("/element/{}/text", e.0))?
            .as_str()
            .unwrap_or("")
            .to_string())
    }

    pub fn attr(&self, e: &Element, name: &str) -> Result<Option<String>, String> {
        Ok(self
            .get(&format!("/element/{}/attribute/{name}", e.0))?
            .as_str()
            .map(str::to_string))
    }

    /// Run a script (its `return` value comes back as JSON).
    pub fn exec(&self, script: &str, args: Vec<Value>) -> Result<Value, String> {
        self.post("/execute/sync", json!({"script": script, "args": args}))
    }

    /// Poll a script until it returns something truthy (returned), or time out.
    pub fn wait_js(&self, script: &str, timeout: Duration) -> Result<Value, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.exec(script, vec![])?;
            let truthy = !(v.is_null() || v == json!(false) || v == json!(0) || v == json!(""));
            if truthy {
                return Ok(v);
            }
            if Instant::now() > deadline {
                return Err(format!("timed out after {timeout:?} waiting for: {script}"));
            }
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Press and release the left button at (`x`, `y`) CSS pixels from the element's top-left
    /// corner, optionally dragging to `x2`.
    pub fn pointer_at(&self, e: &Element, x: f64, y: f64, x2: Option<f64>) -> Result<(), String> {
        // W3C offsets are relative to the element's centre.
        let rect = self.get(&format!("/element/{}/rect", e.0))?;
        let (w, h) = (
            rect["width"].as_f64().unwrap_or(0.0),
            rect["height"].as_f64().unwrap_or(0.0),
        );
        let origin = json!({ELEMENT: e.0});
        let rel = |px: f64, py: f64| ((px - w / 2.0).round() as i64, (py - h / 2.0).round() as i64);
        let (ax, ay) = rel(x, y);
        let mut actions = vec![
            json!({"type": "pointerMove", "duration": 0, "origin": origin, "x": ax, "y": ay}),
            json!({"type": "pointerDown", "button": 0}),
        ];
        if let Some(x2) = x2 {
            let (bx, by) = rel(x2, y);
            actions.push(
                json!({"type": "pointerMove", "duration": 150, "origin": origin, "x": bx, "y": by}),
            );
        }
        actions.push(json!({"type": "pointerUp", "button": 0}));
        self.post(
            "/actions",
            json!({"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": actions}]}),
        )?;
        let _ = self.agent.delete(self.url("/actions")).call();
        Ok(())
    }

    /// Press a key (W3C key value, e.g. "j" or "\u{E00D}" for space).
    pub fn key(&self, k: &str) -> Result<(), String> {
        self.post(
            "/actions",
            json!({"actions": [{"type": "key", "id": "kbd", "actions": [
                {"type": "keyDown", "value": k}, {"type": "keyUp", "value": k}
            ]}]}),
        )
        .map(|_| ())
    }

    /// A PNG screenshot of the window (a second try after a forced repaint if the first stalls).
    pub fn screenshot(&self) -> Result<Vec<u8>, String> {
        match self.screenshot_once() {
            Ok(v) => Ok(v),
            Err(e) => {
                let _ = self.exec(
                    "document.body.style.opacity = '0.999'; return new Promise(r => requestAnimationFrame(() => { document.body.style.opacity = ''; requestAnimationFrame(() => r(1)); }));",
                    vec![],
                );
                self.screenshot_once()
                    .map_err(|e2| format!("{e}; retry: {e2}"))
            }
        }
    }

    fn screenshot_once(&self) -> Result<Vec<u8>, String> {
        let r = self
            .agent
            .get(self.url("/screenshot"))
            .config()
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .call()
            .map_err(|e| format!("GET /screenshot: {e}"))?;
        let v = read(r)?;
        let b64 = v.as_str().ok_or("screenshot is not a string")?;
        base64_decode(b64)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.quit();
    }
}

fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' | b'\n' | b'\r' => continue,
            _ => return Err(format!("bad base64 byte {c}")),
        } as u32;
        buf = (buf << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Ok(out)
}
