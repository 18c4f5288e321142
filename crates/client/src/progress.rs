//! Progress reporting, driven by the workflows and drawn by the caller.

/// The phases of an export or a fetch, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Finding the objects the remote may lack; the total is unknown.
    Counting,
    /// Sending an upload pack; the total is the number of objects.
    Uploading,
    /// Receiving a fetch pack; the total is unknown.
    Receiving,
    /// Checking and applying ref updates; the total is the number of refs.
    Committing,
}

/// Receives progress from a workflow. The CLI implements it with
/// progress bars; [`NoProgress`] ignores it.
pub trait Progress {
    /// Starts `phase`, with `total` steps when known.
    fn start(&self, phase: Phase, total: Option<u64>);

    /// Advances the current phase by `steps`.
    fn advance(&self, steps: u64);

    /// Ends the current phase.
    fn finish(&self);
}

/// A [`Progress`] that draws nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _phase: Phase, _total: Option<u64>) {}

    fn advance(&self, _steps: u64) {}

    fn finish(&self) {}
}
