//! `munl lsp`: a language server over stdio, for editors. It keeps the open `.munl` documents,
//! compiles each after every change as `munl check` does (nothing run, no cache touched) and
//! publishes the diagnostics; it completes keywords, fields and op names, and describes them on
//! hover, from the catalogue.
//!
//! Synchronous: one thread reads framed messages from stdin (a malformed one is reported on
//! stderr and skipped), the main thread answers them in order. Changes that arrive together are
//! compiled once, after the last of them.

mod complete;
mod context;
mod diagnostics;
mod hover;
mod position;
mod schema;
mod uri;

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc;

use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::{
    CompletionOptions, CompletionParams, DidChangeTextDocumentParams, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, DidSaveTextDocumentParams, HoverParams, HoverProviderCapability, InitializeResult,
    PositionEncodingKind, PublishDiagnosticsParams, SaveOptions, ServerCapabilities, ServerInfo,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions, TextDocumentSyncSaveOptions, Uri,
};

use position::LineIndex;

/// An open document: the editor's text, not the file's.
struct Document {
    text: String,
    version: i32,
    /// What relative paths in it resolve against.
    path: PathBuf,
}

/// The server's state between messages.
struct Server {
    docs: HashMap<Uri, Document>,
    /// Documents whose diagnostics are out of date.
    dirty: BTreeSet<Uri>,
    initialized: bool,
    shut_down: bool,
}

/// What handling a message asks of the loop.
enum Next {
    Continue,
    Exit(u8),
}

/// `munl lsp`: serves until the `exit` notification (status 0 after `shutdown`, else 1) or the
/// end of stdin (1).
pub(crate) fn serve() -> u8 {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || read(&send));
    let mut server = Server { docs: HashMap::new(), dirty: BTreeSet::new(), initialized: false, shut_down: false };
    let stdout = std::io::stdout();
    while let Ok(first) = receive.recv() {
        // Everything already waiting, then the diagnostics once.
        for message in std::iter::once(first).chain(receive.try_iter()) {
            let (next, replies) = server.handle(message);
            for reply in replies {
                if let Err(e) = reply.write(&mut stdout.lock()) {
                    eprintln!("munl lsp: cannot write to the editor: {e}");
                    return 1;
                }
            }
            if let Next::Exit(code) = next {
                return code;
            }
        }
        for reply in server.publish() {
            if let Err(e) = reply.write(&mut stdout.lock()) {
                eprintln!("munl lsp: cannot write to the editor: {e}");
                return 1;
            }
        }
        let _ = stdout.lock().flush();
    }
    1
}

/// Reads messages from stdin until it ends. A message that is not JSON-RPC is reported and
/// skipped: its frame was read whole, so the next one starts where it ended.
fn read(send: &mpsc::Sender<Message>) {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    loop {
        match Message::read(&mut input) {
            Ok(Some(message)) => {
                if send.send(message).is_err() {
                    return;
                }
            }
            Ok(None) => return,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                eprintln!("munl lsp: skipping a malformed message: {e}");
            }
            Err(e) => {
                eprintln!("munl lsp: cannot read from the editor: {e}");
                return;
            }
        }
    }
}

impl Server {
    /// Handles one message; returns what the loop does next and the messages to send.
    fn handle(&mut self, message: Message) -> (Next, Vec<Message>) {
        match message {
            Message::Request(request) => (Next::Continue, vec![self.request(request).into()]),
            Message::Notification(n) => self.notification(n),
            Message::Response(_) => (Next::Continue, vec![]),
        }
    }

    fn request(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        if self.shut_down {
            return error(id, ErrorCode::InvalidRequest, "the server is shut down".into());
        }
        if !self.initialized && request.method != "initialize" {
            return error(id, ErrorCode::ServerNotInitialized, "`initialize` comes first".into());
        }
        match request.method.as_str() {
            "initialize" => {
                self.initialized = true;
                Response::new_ok(id, initialize_result())
            }
            "shutdown" => {
                self.shut_down = true;
                Response::new_ok(id, ())
            }
            "textDocument/completion" => match params::<CompletionParams>(&request) {
                Ok(p) => {
                    let at = p.text_document_position;
                    let items = self.docs.get(&at.text_document.uri).map(|doc| {
                        let offset = LineIndex::new(&doc.text).offset(at.position);
                        complete::complete(&doc.text, offset)
                    });
                    Response::new_ok(id, items)
                }
                Err(response) => response,
            },
            "textDocument/hover" => match params::<HoverParams>(&request) {
                Ok(p) => {
                    let at = p.text_document_position_params;
                    let shown = self.docs.get(&at.text_document.uri).and_then(|doc| {
                        let offset = LineIndex::new(&doc.text).offset(at.position);
                        hover::hover(&doc.text, offset)
                    });
                    Response::new_ok(id, shown)
                }
                Err(response) => response,
            },
            other => error(id, ErrorCode::MethodNotFound, format!("munl does not answer `{other}`")),
        }
    }

    fn notification(&mut self, n: Notification) -> (Next, Vec<Message>) {
        let mut replies = vec![];
        match n.method.as_str() {
            "exit" => return (Next::Exit(if self.shut_down { 0 } else { 1 }), vec![]),
            "textDocument/didOpen" => {
                if let Some(p) = notified::<DidOpenTextDocumentParams>(n) {
                    let doc = p.text_document;
                    let path = path_of(&doc.uri);
                    self.docs.insert(doc.uri.clone(), Document { text: doc.text, version: doc.version, path });
                    self.dirty.insert(doc.uri);
                }
            }
            "textDocument/didChange" => {
                if let Some(p) = notified::<DidChangeTextDocumentParams>(n) {
                    let uri = p.text_document.uri;
                    if let Some(doc) = self.docs.get_mut(&uri) {
                        for change in p.content_changes {
                            match change.range {
                                // Full sync is what the server asks for; a ranged change is
                                // applied all the same.
                                Some(range) => {
                                    let index = LineIndex::new(&doc.text);
                                    let (start, end) = (index.offset(range.start), index.offset(range.end));
                                    doc.text.replace_range(start..end.max(start), &change.text);
                                }
                                None => doc.text = change.text,
                            }
                        }
                        doc.version = p.text_document.version;
                        self.dirty.insert(uri);
                    } else {
                        eprintln!("munl lsp: a change to `{}`, which is not open", uri.as_str());
                    }
                }
            }
            "textDocument/didSave" => {
                if let Some(p) = notified::<DidSaveTextDocumentParams>(n) {
                    if let (Some(text), Some(doc)) = (p.text, self.docs.get_mut(&p.text_document.uri)) {
                        doc.text = text;
                    }
                    // A saved file may be imported by the others.
                    self.dirty.extend(self.docs.keys().cloned());
                }
            }
            "textDocument/didClose" => {
                if let Some(p) = notified::<DidCloseTextDocumentParams>(n) {
                    let uri = p.text_document.uri;
                    self.docs.remove(&uri);
                    self.dirty.remove(&uri);
                    replies.push(publish(uri, vec![], None));
                }
            }
            // `initialized`, `$/cancelRequest`, `$/setTrace`, settings: nothing to do.
            _ => {}
        }
        (Next::Continue, replies)
    }

    /// The diagnostics of every document changed since they were last published.
    fn publish(&mut self) -> Vec<Message> {
        std::mem::take(&mut self.dirty)
            .into_iter()
            .filter_map(|uri| {
                let doc = self.docs.get(&uri)?;
                let found = diagnostics::check(&doc.text, &doc.path, &uri);
                let version = doc.version;
                Some(publish(uri, found, Some(version)))
            })
            .collect()
    }
}

/// What the server can do.
fn initialize_result() -> InitializeResult {
    let triggers = ["=", "(", "[", ",", ":", "."].map(String::from).to_vec();
    InitializeResult {
        capabilities: ServerCapabilities {
            position_encoding: Some(PositionEncodingKind::UTF16),
            text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::FULL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions { include_text: Some(true) })),
                ..TextDocumentSyncOptions::default()
            })),
            completion_provider: Some(CompletionOptions {
                trigger_characters: Some(triggers),
                ..CompletionOptions::default()
            }),
            hover_provider: Some(HoverProviderCapability::Simple(true)),
            ..ServerCapabilities::default()
        },
        server_info: Some(ServerInfo { name: "munl".into(), version: Some(env!("CARGO_PKG_VERSION").into()) }),
    }
}

/// The path a document's relative paths resolve against: its file, or, for a document that is
/// no file yet (`untitled:`), one in the current folder.
fn path_of(uri: &Uri) -> PathBuf {
    uri::to_path(uri).unwrap_or_else(|| PathBuf::from("untitled.munl"))
}

fn publish(uri: Uri, diagnostics: Vec<lsp_types::Diagnostic>, version: Option<i32>) -> Message {
    let params = PublishDiagnosticsParams { uri, diagnostics, version };
    Notification::new("textDocument/publishDiagnostics".into(), params).into()
}

/// A request's parameters, or the error response that says they are malformed.
fn params<P: serde::de::DeserializeOwned>(request: &Request) -> Result<P, Response> {
    serde_json::from_value(request.params.clone()).map_err(|e| {
        eprintln!("munl lsp: malformed `{}` parameters: {e}", request.method);
        error(request.id.clone(), ErrorCode::InvalidParams, format!("malformed parameters: {e}"))
    })
}

/// A notification's parameters; malformed ones are reported and the notification skipped.
fn notified<P: serde::de::DeserializeOwned>(n: Notification) -> Option<P> {
    match serde_json::from_value(n.params) {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("munl lsp: skipping `{}` with malformed parameters: {e}", n.method);
            None
        }
    }
}

fn error(id: RequestId, code: ErrorCode, message: String) -> Response {
    Response::new_err(id, code as i32, message)
}
