//! `munl lsp` through the protocol: the built binary on pipes, messages framed by hand.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::{json, Value};

/// How long a reply may take before the test fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(60);

/// The experiment with one error on its last line, an unknown field after non-ASCII text:
/// `cvs` starts 41 bytes but 38 UTF-16 units into its line (`±` is 2 bytes and 1 unit, `𝔸` 4
/// bytes and 2 units).
const BROKEN: &str = r#"# a tiny experiment ± its error
dataset toy {
  source = synthetic(classes: 4, size: 120, test: 40, shape: [3, 8, 8], seed: 1)
}

model net = cnn(width: 4)

train original {
  model  = net
  data   = toy.train
  epochs = 2
}

train retrained = original { data = toy.retain }

unlearn ft = finetune(original) {
  epochs = 1

  lr = 0.01
}

evaluate bench {
  models    = [original, retrained, ft]
  reference = retrained
}

report bench { markdown = "r/±𝔸.md"; cvs = "r/bench.csv" }
"#;

/// A running `munl lsp` and what it said so far.
struct Server {
    child: Child,
    input: ChildStdin,
    output: Receiver<Value>,
}

impl Server {
    fn start(dir: &std::path::Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_munl"))
            .arg("lsp")
            .current_dir(dir)
            .env("MUNL_CACHE", dir.join("cache"))
            .env("MUNL_DATA", dir.join("data"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the munl binary runs");
        let input = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, output) = mpsc::channel();
        std::thread::spawn(move || {
            let mut stdout = BufReader::new(stdout);
            while let Some(message) = read_message(&mut stdout) {
                if send.send(message).is_err() {
                    return;
                }
            }
        });
        Server { child, input, output }
    }

    fn send_raw(&mut self, body: &str) {
        write!(self.input, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.input.flush().unwrap();
    }

    fn send(&mut self, message: Value) {
        self.send_raw(&message.to_string());
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns its result, checking nothing else answered it.
    fn request(&mut self, id: i64, method: &str, params: Value) -> Value {
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let reply = self.next(|m| m.get("id") == Some(&json!(id)));
        assert!(reply.get("error").is_none(), "{method} failed: {reply}");
        reply["result"].clone()
    }

    /// The next message `wanted` accepts; the others are dropped.
    fn next(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            let message = self.output.recv_timeout(PATIENCE).expect("the server answers");
            if wanted(&message) {
                return message;
            }
        }
    }

    /// The diagnostics published next for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let message =
            self.next(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"].as_str() == Some(uri));
        message["params"]["diagnostics"].as_array().cloned().unwrap_or_default()
    }
}

/// One message framed as `Content-Length: N\r\n\r\n` and N bytes of JSON; `None` at the end.
fn read_message(r: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end_matches("\r\n");
        if line.is_empty() {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length: ") {
            length = n.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    r.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn position(line: u64, character: u64) -> Value {
    json!({ "line": line, "character": character })
}

#[test]
fn publishes_diagnostics_completes_and_hovers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("exp.munl");
    let uri = format!("file://{}", path.display());
    let mut server = Server::start(dir.path());

    // A frame that is no JSON is skipped; the session goes on.
    server.send_raw("not json!");
    let init = server.request(1, "initialize", json!({ "processId": null, "rootUri": null, "capabilities": {} }));
    let caps = &init["capabilities"];
    assert_eq!(caps["hoverProvider"], json!(true), "{init}");
    assert!(caps["completionProvider"].is_object(), "{init}");
    assert_eq!(caps["textDocumentSync"]["change"], json!(1), "full sync: {init}");
    server.notify("initialized", json!({}));

    // The unknown field, with its UTF-16 range, its code and the suggestion.
    let doc = json!({ "uri": uri, "languageId": "munl", "version": 1, "text": BROKEN });
    server.notify("textDocument/didOpen", json!({ "textDocument": doc }));
    let found = server.diagnostics(&uri);
    assert_eq!(found.len(), 1, "{found:?}");
    let d = &found[0];
    let line = BROKEN.lines().position(|l| l.starts_with("report")).unwrap() as u64;
    assert_eq!(d["range"], json!({ "start": position(line, 38), "end": position(line, 41) }), "{d}");
    assert_eq!(d["severity"], json!(1));
    assert_eq!(d["code"], json!("munl::lower::unknown_field"));
    let message = d["message"].as_str().unwrap();
    assert!(message.starts_with("unknown field `cvs` in `report`"), "{message}");
    assert!(message.contains("did you mean `csv`?"), "{message}");

    // Fixed: the diagnostics are cleared.
    let fixed = BROKEN.replace("cvs =", "csv =");
    let change = json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": fixed }] });
    server.notify("textDocument/didChange", change);
    assert_eq!(server.diagnostics(&uri), Vec::<Value>::new());

    // Completion on the empty line of the `unlearn` block: `finetune`'s fields.
    let blank = fixed.lines().position(|l| l.starts_with("  epochs = 1")).unwrap() as u64 + 1;
    let at = json!({ "textDocument": { "uri": uri }, "position": position(blank, 2) });
    let items = server.request(2, "textDocument/completion", at);
    let items = items.as_array().or_else(|| items["items"].as_array()).expect("a list of completions");
    let lr = items.iter().find(|i| i["label"] == "lr").unwrap_or_else(|| panic!("no `lr` in {items:?}"));
    assert_eq!(lr["detail"], json!("a number, default `0.1`"), "{lr}");
    assert!(lr["documentation"]["value"].as_str().unwrap().contains("SGD learning rate"), "{lr}");
    assert!(items.iter().any(|i| i["label"] == "weight_decay"), "{items:?}");

    // Hover on that field.
    let at = json!({ "textDocument": { "uri": uri }, "position": position(blank + 1, 3) });
    let hover = server.request(3, "textDocument/hover", at);
    let shown = hover["contents"]["value"].as_str().unwrap_or_else(|| panic!("a hover: {hover}"));
    assert!(shown.contains("**lr**") && shown.contains("default `0.1`"), "{shown}");
    assert!(shown.contains("SGD learning rate"), "{shown}");
    assert_eq!(hover["range"], json!({ "start": position(blank + 1, 2), "end": position(blank + 1, 4) }));

    // Closing clears the document's diagnostics.
    server.notify("textDocument/didClose", json!({ "textDocument": { "uri": uri } }));
    assert_eq!(server.diagnostics(&uri), Vec::<Value>::new());

    assert_eq!(server.request(4, "shutdown", Value::Null), Value::Null);
    server.notify("exit", Value::Null);
    drop(server.input);
    let (send, done) = mpsc::channel();
    let mut child = server.child;
    std::thread::spawn(move || {
        let _ = send.send(child.wait());
    });
    let status = done.recv_timeout(PATIENCE).expect("the server exits").unwrap();
    assert_eq!(status.code(), Some(0));
}
