//! Named points where a crash test can stop the server.
//!
//! With the `failpoints` feature, the environment variable
//! `FERRY_FAILPOINTS` lists points and actions as `name=action,...`. The
//! action `abort` ends the process at once, as a crash would, and `pause`
//! blocks the request thread for an hour so a test can kill the server
//! there. Without the feature every point compiles to nothing.
//!
//! Points: `upload.before_write`, `upload.after_flush`,
//! `prepare.after_record`, `prepare.before_store`,
//! `commit.before_transaction`, `commit.after_transaction`.

/// Runs the action configured for `name`, if any.
#[cfg(feature = "failpoints")]
pub fn hit(name: &str) {
    use std::collections::HashMap;
    use std::sync::OnceLock;

    static POINTS: OnceLock<HashMap<String, String>> = OnceLock::new();
    let points = POINTS.get_or_init(|| {
        let spec = std::env::var("FERRY_FAILPOINTS").unwrap_or_default();
        spec.split(',')
            .filter_map(|item| item.split_once('='))
            .map(|(point, action)| (point.trim().to_owned(), action.trim().to_owned()))
            .collect()
    });
    match points.get(name).map(String::as_str) {
        Some("abort") => {
            tracing::warn!(failpoint = name, "aborting the process at a failpoint");
            std::process::abort();
        }
        Some("pause") => {
            tracing::warn!(failpoint = name, "pausing at a failpoint");
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
        _ => {}
    }
}

/// Does nothing: the `failpoints` feature is off.
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub fn hit(_name: &str) {}
