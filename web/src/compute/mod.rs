//! The only part of the page that talks to the compute worker: it spawns one persistent module
//! worker, sends it requests (a file's bytes as a transferred `ArrayBuffer`), hands every answer
//! to one callback, and recovers when the worker dies — by crash, or by a Cancel it did not obey
//! in time — by spawning a new one and loading the same data into it again.
//!
//! Cancel is cooperative when the page is cross-origin isolated (served with COOP `same-origin`
//! and COEP `require-corp`, see `static/_headers`): the page and every worker share a stop flag
//! in a `SharedArrayBuffer`, the worker's progress callback reads it between core's checkpoints
//! and core stops with `Error::Cancelled`, so the worker keeps its data and models. Browsers only
//! allow `SharedArrayBuffer` on isolated pages: served without those headers, Cancel terminates
//! the worker and replaces it, as it does when a cancelled request outlives the grace period.

pub mod protocol;
pub mod worker;

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, ArrayBuffer, Atomics, Int32Array, SharedArrayBuffer};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{ErrorEvent, MessageEvent, Worker, WorkerOptions, WorkerType};

use protocol::{Columns, Request, Response};

/// Files above this size (1 GB, as the message says) are refused before any byte is read: the
/// table, its report and the model also need memory, and a wasm module has at most 4 GiB.
pub const MAX_FILE_BYTES: f64 = 1e9;

/// How long the worker has to finish the requests the user cancelled before it is terminated.
/// Core stops within one checkpoint (about 100 ms of work); the rest is for work that reports
/// no progress (reading a file, scoring a table) on a slow machine.
const CANCEL_GRACE_MS: i32 = 2_000;

/// What the page hears from the compute side.
#[derive(Debug, Clone)]
pub enum Event {
    Response(Response),
    /// The worker died; a new one is starting and gets the data again.
    Crashed(String),
    /// A file could not be read on the page side (too large, unreadable).
    Refused(String),
    /// Cancel terminated the worker (it did not stop within the grace period) and started a
    /// new one; `replaying`: the new one is loading the same data (a `Data` answer follows).
    Replaced {
        replaying: bool,
    },
}

/// What [`Compute::cancel`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelling {
    /// The worker was asked to stop: a `Cancelled` (or, if it was just finishing, the
    /// request's own) answer follows, or [`Event::Replaced`] after the grace period.
    Asked,
    /// No stop flag (the page is not cross-origin isolated) or a worker still starting: it was
    /// terminated and replaced at once; `replaying` as in [`Event::Replaced`].
    Replaced { replaying: bool },
    /// The worker had finished every request: nothing to stop.
    Idle,
}

/// Where the worker's data came from, to load it again into a new worker.
#[derive(Clone)]
enum Source {
    File(web_sys::File, Columns),
    Generated {
        rows: usize,
        seed: u64,
        columns: Columns,
    },
}

/// The worker's `onmessage` and `onerror` callbacks.
type Handlers = (
    Closure<dyn FnMut(MessageEvent)>,
    Closure<dyn FnMut(ErrorEvent)>,
);

struct Inner {
    script: String,
    worker: Option<Worker>,
    // Kept alive as long as their worker.
    handlers: Option<Handlers>,
    on_event: Rc<dyn Fn(Event)>,
    source: Option<Source>,
    /// Requests made before the worker said `Ready`.
    queued: Vec<(Request, Option<ArrayBuffer>)>,
    ready: bool,
    /// Set while a new worker reloads the data, so a crash during the reload does not loop.
    replaying: bool,
    /// The stop flag shared with the workers; `None` when the page is not cross-origin isolated.
    stop: Option<Int32Array>,
    /// The number of the last request posted, and of the last one the worker finished (`Done`).
    /// Numbers are never reused, so a stop flag left by a Cancel never stops a later request.
    sent: i32,
    done: i32,
    /// Counts the workers spawned, so a grace timer set for one leaves its successor alone.
    epoch: u32,
}

/// The stop flag, when the browser allows shared memory: only on a cross-origin isolated page.
fn stop_flag() -> Option<Int32Array> {
    let isolated = js_sys::Reflect::get(&js_sys::global(), &"crossOriginIsolated".into())
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    isolated.then(|| Int32Array::new(&SharedArrayBuffer::new(4)))
}

/// A handle on the compute worker (cheap to clone; the page holds one).
#[derive(Clone)]
pub struct Compute(Rc<RefCell<Inner>>);

impl Compute {
    /// Spawns the worker from `script` (the module loader scripts/web.sh writes).
    pub fn start(script: &str, on_event: impl Fn(Event) + 'static) -> Compute {
        let compute = Compute(Rc::new(RefCell::new(Inner {
            script: script.to_string(),
            worker: None,
            handlers: None,
            on_event: Rc::new(on_event),
            source: None,
            queued: Vec::new(),
            ready: false,
            replaying: false,
            stop: stop_flag(),
            sent: 0,
            done: 0,
            epoch: 0,
        })));
        compute.spawn();
        compute
    }

    fn emit(&self, event: Event) {
        let on_event = self.0.borrow().on_event.clone();
        on_event(event);
    }

    fn spawn(&self) {
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        let script = self.0.borrow().script.clone();
        let worker = match Worker::new_with_options(&script, &options) {
            Ok(w) => w,
            Err(e) => {
                self.emit(Event::Crashed(format!(
                    "the compute worker cannot start: {e:?}"
                )));
                return;
            }
        };
        let this = self.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            match serde_wasm_bindgen::from_value::<Response>(ev.data()) {
                Ok(Response::Ready) => this.on_ready(),
                Ok(Response::Done { seq }) => this.0.borrow_mut().done = seq,
                Ok(response) => {
                    if matches!(
                        response,
                        Response::Data(_) | Response::Failed { .. } | Response::Cancelled { .. }
                    ) {
                        this.0.borrow_mut().replaying = false;
                    }
                    this.emit(Event::Response(response));
                }
                Err(e) => this.emit(Event::Refused(format!(
                    "internal error: unreadable answer from the worker ({e})"
                ))),
            }
        });
        let this = self.clone();
        let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |ev: ErrorEvent| {
            // Handled here: the page reports it and recovers.
            ev.prevent_default();
            let message = ev.message();
            let why = if message.is_empty() {
                "the compute worker stopped".to_string()
            } else {
                format!("the compute worker stopped: {message}")
            };
            // Later, not inside this handler: restarting drops the handler itself.
            let this = this.clone();
            wasm_bindgen_futures::spawn_local(async move { this.restart(why) });
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let mut inner = self.0.borrow_mut();
        inner.worker = Some(worker);
        inner.handlers = Some((on_message, on_error));
        inner.ready = false;
        inner.epoch += 1;
    }

    fn on_ready(&self) {
        let queued = {
            let mut inner = self.0.borrow_mut();
            inner.ready = true;
            std::mem::take(&mut inner.queued)
        };
        for (request, bytes) in queued {
            self.post(request, bytes);
        }
    }

    fn post(&self, request: Request, bytes: Option<ArrayBuffer>) {
        let inner = self.0.borrow();
        let Some(worker) = inner.worker.as_ref() else {
            return;
        };
        // Counted once posted: a request that never left gets no `Done`.
        let seq = inner.sent + 1;
        let sent = serde_wasm_bindgen::to_value(&request)
            .map_err(|e| e.to_string())
            .and_then(|value| {
                let message = Array::of4(
                    &value,
                    bytes.as_ref().map_or(&JsValue::UNDEFINED, |b| b),
                    &JsValue::from(seq),
                    inner.stop.as_ref().map_or(&JsValue::UNDEFINED, |f| f),
                );
                match &bytes {
                    // Transferred: the page's copy becomes empty, no second copy of the file.
                    Some(b) => worker.post_message_with_transfer(&message, &Array::of1(b)),
                    None => worker.post_message(&message),
                }
                .map_err(|e| format!("{e:?}"))
            });
        drop(inner);
        match sent {
            Ok(()) => self.0.borrow_mut().sent = seq,
            Err(e) => self.emit(Event::Refused(format!(
                "internal error: could not reach the worker ({e})"
            ))),
        }
    }

    /// Sends a request (queued until the worker is ready).
    pub fn send(&self, request: Request) {
        self.send_with(request, None);
    }

    fn send_with(&self, request: Request, bytes: Option<ArrayBuffer>) {
        if let Request::SetColumns { columns } = &request {
            if let Some(Source::File(_, c) | Source::Generated { columns: c, .. }) =
                self.0.borrow_mut().source.as_mut()
            {
                *c = columns.clone();
            }
        }
        if self.0.borrow().ready {
            self.post(request, bytes);
        } else {
            self.0.borrow_mut().queued.push((request, bytes));
        }
    }

    /// Reads `file` (refusing it up front when above [`MAX_FILE_BYTES`]) and loads it.
    pub fn load_file(&self, file: web_sys::File) {
        self.0.borrow_mut().source = Some(Source::File(file.clone(), Columns::default()));
        self.read_and_load(file, Columns::default());
    }

    fn read_and_load(&self, file: web_sys::File, columns: Columns) {
        if file.size() > MAX_FILE_BYTES {
            self.0.borrow_mut().source = None;
        }
        let this = self.clone();
        self.read_and_send(
            file,
            move |name| Request::Load { name, columns },
            move |why| this.emit(Event::Refused(why)),
        );
    }

    /// Reads `file` (refusing it up front when above [`MAX_FILE_BYTES`]) and sends its bytes
    /// with the request `request` makes of its name; a file that cannot be read goes to
    /// `refused` with the reason.
    fn read_and_send(
        &self,
        file: web_sys::File,
        request: impl FnOnce(String) -> Request + 'static,
        refused: impl Fn(String) + 'static,
    ) {
        let name = file.name();
        if file.size() > MAX_FILE_BYTES {
            refused(format!(
                "{name}: the file is {:.1} GB; the dashboard reads files up to 1 GB (use the `ebb` command line for larger ones)",
                file.size() / 1e9
            ));
            return;
        }
        let this = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            match wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
                Ok(buffer) => {
                    this.send_with(request(name), Some(buffer.unchecked_into::<ArrayBuffer>()))
                }
                Err(e) => refused(format!("{name}: cannot read the file: {e:?}")),
            }
        });
    }

    /// Reads a newer batch for the Drift view (same size limit as data files); a file that
    /// cannot be read goes to `refused`, leaving the data alone. The batch is not replayed into
    /// a new worker after a crash or a Cancel that replaced the worker: the page forgets it then.
    pub fn load_batch(&self, file: web_sys::File, refused: impl Fn(String) + 'static) {
        self.read_and_send(file, |name| Request::LoadBatch { name }, refused);
    }

    /// Generates demo customers in the worker.
    pub fn generate(&self, rows: usize, seed: u64) {
        self.0.borrow_mut().source = Some(Source::Generated {
            rows,
            seed,
            columns: Columns::default(),
        });
        self.send(Request::Generate { rows, seed });
    }

    /// Stops whatever the worker is doing: every request posted so far. With the stop flag,
    /// it gets the number of the last request posted (the requests up to it stop at core's
    /// next checkpoint and answer `Cancelled`; later ones run), and the worker is replaced
    /// only if it has not finished them within [`CANCEL_GRACE_MS`]. Without the flag, or while
    /// a new worker is still starting (its requests are queued here, not posted), the worker
    /// is replaced at once.
    pub fn cancel(&self) -> Cancelling {
        let asked = {
            let inner = self.0.borrow();
            match &inner.stop {
                Some(_) if inner.ready && inner.done >= inner.sent => return Cancelling::Idle,
                Some(flag) if inner.ready => Atomics::store(flag, 0, inner.sent)
                    .is_ok()
                    .then_some((inner.epoch, inner.sent)),
                _ => None,
            }
        };
        match asked {
            // No timer, no fallback: replaced now rather than risk a worker that never stops.
            Some((epoch, seq)) if self.replace_unless_done(epoch, seq) => Cancelling::Asked,
            _ => Cancelling::Replaced {
                replaying: self.replace(),
            },
        }
    }

    /// After the grace period, replaces worker `epoch` unless it has finished request `seq`;
    /// returns whether the timer is set.
    fn replace_unless_done(&self, epoch: u32, seq: i32) -> bool {
        let this = self.clone();
        let check = Closure::once_into_js(move || {
            let late = {
                let inner = this.0.borrow();
                inner.epoch == epoch && inner.done < seq
            };
            if late {
                let replaying = this.replace();
                this.emit(Event::Replaced { replaying });
            }
        });
        web_sys::window().is_some_and(|w| {
            w.set_timeout_with_callback_and_timeout_and_arguments_0(
                check.unchecked_ref(),
                CANCEL_GRACE_MS,
            )
            .is_ok()
        })
    }

    /// Terminates the worker and starts a new one with the same data; returns whether it is
    /// loading the data again (a `Data` answer follows).
    fn replace(&self) -> bool {
        self.restart(String::new());
        self.0.borrow().source.is_some()
    }

    /// Replaces the worker and loads the same data into the new one; `why` (unless empty) is
    /// reported as a crash.
    fn restart(&self, why: String) {
        let (source, was_replaying) = {
            let mut inner = self.0.borrow_mut();
            if let Some(w) = inner.worker.take() {
                w.terminate();
            }
            inner.handlers = None;
            inner.queued.clear();
            // The requests in flight died with it: none is left to finish or to cancel.
            inner.done = inner.sent;
            // A worker that died before saying `Ready` cannot load (its script is missing or
            // broken, e.g. a page older than the deployed files): a new one would die the same way.
            if !why.is_empty() && !inner.ready {
                inner.source = None;
                drop(inner);
                self.emit(Event::Crashed(format!(
                    "{why}; the compute worker could not start: reload the page"
                )));
                return;
            }
            let was_replaying = inner.replaying;
            // A crash while reloading the data would crash again: keep the new worker empty.
            if !why.is_empty() && was_replaying {
                inner.source = None;
            }
            inner.replaying = inner.source.is_some();
            (inner.source.clone(), was_replaying)
        };
        if !why.is_empty() {
            let hint = match (&source, was_replaying) {
                (Some(_), _) => "; a new worker is loading your data again",
                (None, true) => "; your data could not be loaded again: choose it once more",
                (None, false) => "",
            };
            self.emit(Event::Crashed(format!("{why}{hint}")));
        }
        self.spawn();
        match source {
            Some(Source::File(file, columns)) => self.read_and_load(file, columns),
            Some(Source::Generated {
                rows,
                seed,
                columns,
            }) => {
                self.send(Request::Generate { rows, seed });
                if columns != Columns::default() {
                    self.send(Request::SetColumns { columns });
                }
            }
            None => {}
        }
    }
}
