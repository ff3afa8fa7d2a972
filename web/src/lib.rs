//! Ebb's dashboard: a Leptos client-side app. `start` runs on the page and `start_worker` in the
//! compute Web Worker; both are this one wasm module (see scripts/web.sh, which writes the page
//! and the worker's loader).

mod api;
mod app;
mod charts;
mod compute;
mod edits;
mod format;
mod group_inputs;
mod inputs;
mod recent;
mod views;

use wasm_bindgen::prelude::*;

/// The page: mounts the app; `worker_script` is the URL of the compute worker's loader.
#[wasm_bindgen]
pub fn start(worker_script: String) {
    console_error_panic_hook::set_once();
    app::mount(worker_script);
}

/// The compute worker: listens for the page's requests.
#[wasm_bindgen]
pub fn start_worker() {
    console_error_panic_hook::set_once();
    compute::worker::run();
}
