//! A small Chrome DevTools Protocol (CDP) client that drives headless Chromium, so integration
//! tests can load a page in a real browser and check what a user would see: console errors,
//! uncaught exceptions, network requests, values computed by JavaScript, and a screenshot.
//!
//! It speaks the protocol over one synchronous websocket to the browser target, using the
//! "flattened" session model: each tab gets a session id from `Target.attachToTarget`, and its
//! commands and events travel on the same socket tagged with that id. Events that arrive while a
//! command's reply is awaited are buffered, never dropped, so no console message is lost.
//!
//! Every wait has a deadline (the socket's read timeout is set to the time left), so a wedged
//! browser fails the test with a message naming what was awaited instead of hanging it.
//!
//! ```ignore
//! let mut browser = Browser::launch()?;
//! let mut page = browser.open("file:///tmp/report.html")?;
//! assert_eq!(page.problems(), Vec::<String>::new());
//! assert_eq!(page.eval("document.title")?, "Report");
//! page.screenshot(Path::new("target/report.png"))?;
//! ```

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message, WebSocket};

/// How long any single wait (launch, command reply, page load) may take before it is an error.
/// Generous because tests may run in parallel on a small, busy machine.
const TIMEOUT: Duration = Duration::from_secs(30);

/// How long `Drop` waits for a polite shutdown before killing the browser.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Viewport every page is laid out in, so that screenshots and layout-dependent checks do not
/// depend on Chromium's default window size.
const VIEWPORT_WIDTH: u32 = 1280;
const VIEWPORT_HEIGHT: u32 = 800;

/// How many of Chromium's last stderr lines are kept to explain a failed launch.
const STDERR_LINES_KEPT: usize = 40;

/// Flags for a quiet, hermetic, headless browser. `--no-sandbox` is needed when running as root
/// (as in CI containers); the `--disable-*` flags stop Chromium from phoning home, which would
/// otherwise show up as stray network traffic and slow start-up on a machine without network.
/// `--hide-scrollbars` keeps a scrollbar from eating into the 1280-pixel layout width and out of
/// screenshots.
const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
];

/// A headless Chromium process and the DevTools connection to it.
///
/// Dropping it shuts the browser down and removes its temporary profile.
pub struct Browser {
    connection: Connection,
    child: Child,
    /// Fresh profile directory, so runs never share state; removed on drop, after the browser
    /// has exited (fields drop after `Drop::drop` has run).
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Launches headless Chromium: the binary named by `$CHROMIUM`, else `chromium` on `PATH`.
    ///
    /// With `--remote-debugging-port=0` Chromium picks a free port and announces it on stderr as
    /// `DevTools listening on ws://…`, which is how the websocket address is found; this lets
    /// tests run in parallel without port clashes.
    pub fn launch() -> Result<Browser, String> {
        let from_env = std::env::var("CHROMIUM").ok();
        let program = from_env.clone().unwrap_or_else(|| "chromium".to_owned());
        let profile = tempfile::Builder::new()
            .prefix("cdp-profile-")
            .tempdir()
            .map_err(|e| format!("creating a temporary Chromium profile directory: {e}"))?;
        let mut child = Command::new(&program)
            .args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => match &from_env {
                    Some(path) => {
                        format!("Chromium not found: $CHROMIUM is `{path}`, which does not exist")
                    }
                    None => "Chromium not found: no `chromium` on PATH; install it (Debian: \
                             `apt-get install chromium`) or set $CHROMIUM to the browser's path"
                        .to_owned(),
                },
                _ => format!("starting Chromium (`{program}`): {e}"),
            })?;

        let stderr = child.stderr.take().expect("stderr was piped");
        let (url_tx, url_rx) = mpsc::channel();
        let recent = Arc::new(Mutex::new(VecDeque::new()));
        spawn_stderr_reader(stderr, url_tx, Arc::clone(&recent));

        let ws_url = match url_rx.recv_timeout(TIMEOUT) {
            Ok(url) => url,
            Err(e) => {
                let _ = child.kill();
                let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
                let why = match e {
                    mpsc::RecvTimeoutError::Timeout => {
                        format!("timed out after {}s", TIMEOUT.as_secs())
                    }
                    mpsc::RecvTimeoutError::Disconnected => format!("Chromium exited ({status})"),
                };
                let lines = recent.lock().map(|l| Vec::from(l.clone())).unwrap_or_default();
                let stderr = if lines.is_empty() {
                    "its stderr was empty".to_owned()
                } else {
                    format!("its last stderr lines:\n{}", lines.join("\n"))
                };
                return Err(format!("waiting for Chromium (`{program}`) to print its DevTools URL: {why}; {stderr}"));
            }
        };

        match Connection::open(&ws_url) {
            Ok(connection) => Ok(Browser { connection, child, _profile: profile }),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(e)
            }
        }
    }

    /// Opens `url` in a new tab and returns once its `load` event has fired (all subresources
    /// loaded or failed), with console, exception, log and network events recorded from the
    /// very first request on.
    ///
    /// The tab starts at `about:blank` and navigates only after the domains are enabled, which
    /// is what makes events from the page's own scripts observable.
    pub fn open(&mut self, url: &str) -> Result<Page<'_>, String> {
        let conn = &mut self.connection;
        let target = conn.call(None, "Target.createTarget", json!({ "url": "about:blank" }))?;
        let target_id = str_field(&target, "targetId", "Target.createTarget")?;
        let attached = conn.call(None, "Target.attachToTarget", json!({ "targetId": target_id, "flatten": true }))?;
        let session_id = str_field(&attached, "sessionId", "Target.attachToTarget")?;

        let mut page = Page {
            connection: conn,
            target_id,
            session_id,
            problems: Vec::new(),
            requests: Vec::new(),
            loader_id: None,
            navigated: false,
            loaded: false,
        };
        for domain in ["Page", "Runtime", "Log", "Network"] {
            page.call(&format!("{domain}.enable"), json!({}))?;
        }
        page.call(
            "Emulation.setDeviceMetricsOverride",
            json!({
                "width": VIEWPORT_WIDTH,
                "height": VIEWPORT_HEIGHT,
                "deviceScaleFactor": 1,
                "mobile": false,
            }),
        )?;

        // Not `page.call`: the navigation's events must stay buffered until its loader id is
        // known, or they could not be recognised.
        let session = Some(page.session_id.as_str());
        let nav = page.connection.call(session, "Page.navigate", json!({ "url": url }))?;
        if let Some(error) = nav.get("errorText").and_then(Value::as_str) {
            return Err(format!("navigating to {url}: {error}"));
        }
        // The load event that counts is the one after the main frame commits *this* navigation;
        // that way a late load event of the initial about:blank can never be mistaken for it.
        page.loader_id = nav.get("loaderId").and_then(Value::as_str).map(str::to_owned);
        let deadline = Instant::now() + TIMEOUT;
        page.absorb_events();
        while !page.loaded {
            let waiting_for = format!("the load event of {url}");
            page.connection.read_one(deadline, &waiting_for)?;
            page.absorb_events();
        }
        Ok(page)
    }
}

impl Drop for Browser {
    /// Asks the browser to close (which lets it end its renderer processes), and kills it if it
    /// has not exited within a few seconds; always reaps the child so no zombie is left.
    fn drop(&mut self) {
        let _ = self.connection.send(None, "Browser.close", json!({}));
        let deadline = Instant::now() + SHUTDOWN_GRACE;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(_)) => return,
                Ok(None) => thread::sleep(Duration::from_millis(50)),
                Err(_) => break,
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One tab, attached through its own session. It borrows the browser mutably because the
/// socket is shared; open one page at a time. Dropping it closes the tab.
pub struct Page<'a> {
    connection: &'a mut Connection,
    target_id: String,
    session_id: String,
    problems: Vec<String>,
    requests: Vec<String>,
    /// Loader of the navigation started by `open`, once `Page.navigate` has answered. It
    /// identifies that navigation's events: its main-frame commit, and its document request
    /// (whose request id is the loader id).
    loader_id: Option<String>,
    navigated: bool,
    loaded: bool,
}

impl Page<'_> {
    /// Evaluates a JavaScript expression in the page and returns its value as JSON.
    ///
    /// Promises are awaited, so `eval("fetchSomething().then(r => r.ok)")` works. `undefined`
    /// comes back as `null`; values JSON cannot hold (`NaN`, `Infinity`, `-0`, bigints) come back
    /// as strings such as `"NaN"`. A thrown exception or rejected promise is an `Err` with its
    /// message and stack.
    pub fn eval(&mut self, expression: &str) -> Result<Value, String> {
        let reply = self.call(
            "Runtime.evaluate",
            json!({
                "expression": expression,
                "returnByValue": true,
                "awaitPromise": true,
            }),
        )?;
        if let Some(details) = reply.get("exceptionDetails") {
            return Err(format!("evaluating `{}` threw: {}", abbreviate(expression), exception_text(details)));
        }
        let result = reply.get("result").unwrap_or(&Value::Null);
        Ok(match (result.get("value"), result.get("unserializableValue")) {
            (Some(value), _) => value.clone(),
            (None, Some(unserializable)) => unserializable.clone(),
            (None, None) => Value::Null,
        })
    }

    /// Everything that went wrong in the page since it was opened, one readable line each:
    /// `console.error`/`console.warn`/failed `console.assert` calls, uncaught exceptions and
    /// unhandled rejections, and browser log entries of level error (e.g. a subresource that
    /// failed to load). An empty list means a clean page.
    ///
    /// Does a round trip to the page first, so messages logged by code that has already run are
    /// included even if their events were still in flight.
    pub fn problems(&mut self) -> Vec<String> {
        self.sync();
        self.problems.clone()
    }

    /// URLs of every network request the page has made since it was opened, in order, except
    /// the request for the page's own document (the URL given to `open`, and any redirects of
    /// it) and `data:` URLs, which need nothing outside the page. An empty list therefore means
    /// the page is self-contained. Failed requests are listed too: they were still attempted.
    pub fn requests(&mut self) -> Vec<String> {
        self.sync();
        self.requests.clone()
    }

    /// Writes a PNG screenshot of the whole page, not just the viewport, to `path`. The page is
    /// laid out 1280 CSS pixels wide at device scale factor 1.
    pub fn screenshot(&mut self, path: &Path) -> Result<(), String> {
        let metrics = self.call("Page.getLayoutMetrics", json!({}))?;
        let size = metrics.get("cssContentSize").ok_or("Page.getLayoutMetrics returned no cssContentSize")?;
        let dimension = |name: &str| size.get(name).and_then(Value::as_f64).unwrap_or(0.0).ceil();
        let shot = self.call(
            "Page.captureScreenshot",
            json!({
                "format": "png",
                "captureBeyondViewport": true,
                "clip": {
                    "x": 0,
                    "y": 0,
                    "width": dimension("width").max(1.0),
                    "height": dimension("height").max(1.0),
                    "scale": 1,
                },
            }),
        )?;
        let data = str_field(&shot, "data", "Page.captureScreenshot")?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|e| format!("decoding the screenshot's base64: {e}"))?;
        std::fs::write(path, png).map_err(|e| format!("writing the screenshot to {}: {e}", path.display()))
    }

    /// Sends a command to this page's session and returns its result, recording any events
    /// that arrived meanwhile.
    fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        let result = self.connection.call(Some(&self.session_id), method, params);
        self.absorb_events();
        result
    }

    /// Makes sure events caused by everything the page has done so far have been received. The
    /// renderer sends a session's events and replies in order, so once the reply to a trivial
    /// evaluation is in, earlier console and exception events are too. Failure is ignored: the
    /// callers have no error to return, and what was recorded is still the best answer.
    fn sync(&mut self) {
        let _ = self.call("Runtime.evaluate", json!({ "expression": "0" }));
    }

    /// Moves this session's buffered events into the page's records. Events of other sessions
    /// (closed tabs) and of the browser target are of no interest and are discarded.
    fn absorb_events(&mut self) {
        while let Some(event) = self.connection.events.pop_front() {
            if event.get("sessionId").and_then(Value::as_str) != Some(&self.session_id) {
                continue;
            }
            let method = event.get("method").and_then(Value::as_str).unwrap_or("");
            let params = event.get("params").unwrap_or(&Value::Null);
            match method {
                "Runtime.consoleAPICalled" => {
                    if let Some(problem) = console_problem(params) {
                        self.problems.push(problem);
                    }
                }
                "Runtime.exceptionThrown" => {
                    let details = params.get("exceptionDetails").unwrap_or(&Value::Null);
                    self.problems.push(exception_text(details));
                }
                "Log.entryAdded" => {
                    if let Some(problem) = log_problem(params) {
                        self.problems.push(problem);
                    }
                }
                "Inspector.targetCrashed" => self.problems.push("the page crashed".to_owned()),
                "Network.requestWillBeSent" => {
                    let is_document = self.loader_id.is_some()
                        && params.get("requestId").and_then(Value::as_str) == self.loader_id.as_deref();
                    let url = params.pointer("/request/url").and_then(Value::as_str);
                    if let Some(url) = url.filter(|u| !is_document && !u.starts_with("data:")) {
                        self.requests.push(url.to_owned());
                    }
                }
                "Page.frameNavigated" => {
                    let frame = params.get("frame").unwrap_or(&Value::Null);
                    let is_main = frame.get("parentId").is_none();
                    let loader = frame.get("loaderId").and_then(Value::as_str);
                    if is_main && self.loader_id.is_some() && loader == self.loader_id.as_deref() {
                        self.navigated = true;
                    }
                }
                "Page.loadEventFired" if self.navigated => self.loaded = true,
                _ => {}
            }
        }
    }
}

impl Drop for Page<'_> {
    /// Closes the tab so pages opened one after another do not pile up in the browser. The
    /// reply is not awaited: nothing depends on it, and a wedged browser must not stall a drop.
    fn drop(&mut self) {
        let params = json!({ "targetId": self.target_id });
        let _ = self.connection.send(None, "Target.closeTarget", params);
    }
}

/// The websocket to the browser target, with the command counter and the events received while
/// waiting for replies.
struct Connection {
    socket: WebSocket<TcpStream>,
    next_id: u64,
    events: VecDeque<Value>,
}

impl Connection {
    fn open(ws_url: &str) -> Result<Connection, String> {
        // Chromium prints `ws://127.0.0.1:PORT/devtools/browser/ID`; the TCP address is the part
        // between the scheme and the path.
        let address = ws_url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .ok_or_else(|| format!("unexpected DevTools URL from Chromium: {ws_url}"))?;
        let stream = TcpStream::connect(address)
            .map_err(|e| format!("connecting to Chromium's DevTools port at {address}: {e}"))?;
        stream
            .set_read_timeout(Some(TIMEOUT))
            .and_then(|()| stream.set_nodelay(true))
            .map_err(|e| format!("configuring the DevTools socket: {e}"))?;
        // Full-page screenshots arrive as one base64 message that can exceed the default limits.
        let config = WebSocketConfig::default().max_message_size(Some(512 << 20)).max_frame_size(Some(512 << 20));
        let (socket, _response) = tungstenite::client::client_with_config(ws_url, stream, Some(config))
            .map_err(|e| format!("websocket handshake with Chromium at {ws_url}: {e}"))?;
        Ok(Connection { socket, next_id: 1, events: VecDeque::new() })
    }

    /// Sends a command (to the browser target when `session` is `None`) and returns its id.
    fn send(&mut self, session: Option<&str>, method: &str, params: Value) -> Result<u64, String> {
        let id = self.next_id;
        self.next_id += 1;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .map_err(|e| format!("sending {method} to Chromium: {e}"))?;
        Ok(id)
    }

    /// Sends a command and waits for its reply, buffering the events that arrive meanwhile.
    /// A protocol-level error reply becomes an `Err` naming the method.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Result<Value, String> {
        let id = self.send(session, method, params)?;
        let deadline = Instant::now() + TIMEOUT;
        let waiting_for = format!("the reply to {method}");
        loop {
            if let Some(mut reply) = self.read_one(deadline, &waiting_for)? {
                if reply.get("id").and_then(Value::as_u64) != Some(id) {
                    continue; // the late reply to an earlier command that gave up waiting
                }
                if let Some(error) = reply.get("error") {
                    let message = error.get("message").and_then(Value::as_str).unwrap_or("");
                    let code = error.get("code").unwrap_or(&Value::Null);
                    return Err(format!("{method} failed: {message} (code {code})"));
                }
                return Ok(reply.get_mut("result").map(Value::take).unwrap_or(Value::Null));
            }
        }
    }

    /// Reads one message, waiting until `deadline` at most. An event is queued and `None`
    /// returned; a command reply is returned.
    fn read_one(&mut self, deadline: Instant, waiting_for: &str) -> Result<Option<Value>, String> {
        let timed_out = || format!("timed out after {}s waiting for {waiting_for}", TIMEOUT.as_secs());
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(timed_out());
            }
            self.socket
                .get_ref()
                .set_read_timeout(Some(left))
                .map_err(|e| format!("setting the DevTools socket's read timeout: {e}"))?;
            let text = match self.socket.read() {
                Ok(Message::Text(text)) => text,
                Ok(Message::Close(_)) => {
                    return Err(format!("Chromium closed the DevTools connection while waiting for {waiting_for}"))
                }
                Ok(_) => continue, // pings are answered by tungstenite; CDP sends no binary
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) =>
                {
                    return Err(timed_out())
                }
                Err(e) => return Err(format!("reading from Chromium while waiting for {waiting_for}: {e}")),
            };
            let message: Value = serde_json::from_str(text.as_str())
                .map_err(|e| format!("Chromium sent invalid JSON while waiting for {waiting_for}: {e}"))?;
            if message.get("id").is_some() {
                return Ok(Some(message));
            }
            self.events.push_back(message);
            return Ok(None);
        }
    }
}

/// Reads Chromium's stderr for the whole life of the process: it sends the DevTools URL once it
/// appears, and keeps draining afterwards because Chromium logs a lot (D-Bus complaints in
/// containers, for one) and would block once the pipe filled. The last lines are kept to explain
/// a failed launch.
fn spawn_stderr_reader(
    stderr: std::process::ChildStderr,
    url_tx: mpsc::Sender<String>,
    recent: Arc<Mutex<VecDeque<String>>>,
) {
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(url) = line.trim().strip_prefix("DevTools listening on ") {
                let _ = url_tx.send(url.to_owned()); // fails only once launch() has given up
            }
            if let Ok(mut recent) = recent.lock() {
                if recent.len() == STDERR_LINES_KEPT {
                    recent.pop_front();
                }
                recent.push_back(line);
            }
        }
    });
}

/// Describes a console call if its level makes it a problem. `console.assert` only emits an
/// event when the assertion fails.
fn console_problem(params: &Value) -> Option<String> {
    let call = match params.get("type").and_then(Value::as_str)? {
        "error" => "console.error",
        "warning" => "console.warn",
        "assert" => "console.assert failed",
        _ => return None,
    };
    let args: Vec<String> = params
        .get("args")
        .and_then(Value::as_array)
        .map(|args| args.iter().map(remote_object_text).collect())
        .unwrap_or_default();
    let frame = params.pointer("/stackTrace/callFrames/0");
    let location =
        frame.map(|frame| location_text(frame.get("url"), frame.get("lineNumber"), frame.get("columnNumber")));
    Some(format!("{call}: {}{}", args.join(" "), location.unwrap_or_default()))
}

/// Describes a browser log entry if it is an error. Warnings and below are mostly Chromium's
/// advice (deprecations, intervention notices) rather than faults of the page.
fn log_problem(params: &Value) -> Option<String> {
    let entry = params.get("entry")?;
    if entry.get("level").and_then(Value::as_str) != Some("error") {
        return None;
    }
    let source = entry.get("source").and_then(Value::as_str).unwrap_or("other");
    let text = entry.get("text").and_then(Value::as_str).unwrap_or("");
    let location = location_text(entry.get("url"), entry.get("lineNumber"), None);
    Some(format!("{source} error: {text}{location}"))
}

/// The readable form of an exception, as the DevTools console shows it: the protocol's summary
/// (`Uncaught`, or `Uncaught (in promise)` for an unhandled rejection) followed by the thrown
/// value, which for an `Error` is its message and stack. A thrown primitive has no stack, so the
/// location is added instead.
fn exception_text(details: &Value) -> String {
    let text = details.get("text").and_then(Value::as_str).unwrap_or("");
    let Some(thrown) = details.get("exception") else {
        return text.to_owned();
    };
    let location = if thrown.get("description").is_some() {
        String::new()
    } else {
        location_text(details.get("url"), details.get("lineNumber"), details.get("columnNumber"))
    };
    let message = format!("{text} {}{location}", remote_object_text(thrown));
    message.trim_start().to_owned()
}

/// A console argument as the console would print it: strings bare, other values as JSON, and
/// objects by their description.
fn remote_object_text(object: &Value) -> String {
    match object.get("value") {
        Some(Value::String(s)) => s.clone(),
        Some(value) => value.to_string(),
        None => ["unserializableValue", "description", "type"]
            .iter()
            .find_map(|key| object.get(*key).and_then(Value::as_str))
            .unwrap_or("?")
            .to_owned(),
    }
}

/// ` (url:line:column)` with the protocol's zero-based line and column made one-based, or an
/// empty string when there is no URL.
fn location_text(url: Option<&Value>, line: Option<&Value>, column: Option<&Value>) -> String {
    let Some(url) = url.and_then(Value::as_str).filter(|u| !u.is_empty()) else {
        return String::new();
    };
    let one_based = |n: Option<&Value>| n.and_then(Value::as_u64).map(|n| format!(":{}", n + 1));
    format!(" ({url}{}{})", one_based(line).unwrap_or_default(), one_based(column).unwrap_or_default())
}

/// A string field of a command's result, or an error naming the command.
fn str_field(result: &Value, field: &str, method: &str) -> Result<String, String> {
    result
        .get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("{method} returned no {field}: {result}"))
}

/// The start of a possibly long expression, for error messages.
fn abbreviate(expression: &str) -> String {
    const MAX: usize = 80;
    match expression.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &expression[..end]),
        None => expression.to_owned(),
    }
}
