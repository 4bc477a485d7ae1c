//! The two ways plans are carried out — blocking, or on tokio — as one
//! trait, so that the retry loop, log streams and readiness waits are
//! written once, as `async fn`s over a [`Driver`].
//!
//! The blocking driver's futures never wait on anything (every step blocks
//! the thread instead), so [`ready`](crate::exec) finishes them in one poll;
//! the tokio driver's are awaited as usual.

use std::time::{Duration, Instant};

use super::stream::{Decoded, LineStream, Next};
use crate::error::Result;
use crate::exec::{self, Cmd, Limits, Observer, Output};

/// How commands run, streams start and time passes.
pub(crate) trait Driver {
    /// The stream of items of long-running commands.
    type Lines<T>;

    /// Run `cmd` once within `limits`, handing its output to `observer`
    /// as it arrives (blocking driver only).
    async fn output(
        &self,
        cmd: &Cmd,
        limits: &Limits,
        observer: Option<&Observer>,
    ) -> Result<Output>;

    /// Sleep, waking early on SIGINT/SIGTERM/SIGHUP.
    async fn sleep(&self, duration: Duration) -> Result<()>;

    /// Sleep even when an interrupt is pending (a rollback's back-off).
    async fn sleep_through_interrupts(&self, duration: Duration);

    /// Do blocking work (a TCP probe) without stalling an async runtime.
    async fn offload<R: Send + 'static>(&self, work: impl FnOnce() -> R + Send + 'static) -> R;

    /// Start the commands of `decoded`.
    fn start_lines<T>(&self, decoded: Decoded<T>) -> Result<Self::Lines<T>>;

    /// The next item of `lines`, waiting no later than `deadline`.
    async fn next_line<T>(&self, lines: &mut Self::Lines<T>, deadline: Option<Instant>) -> Next<T>;
}

/// Blocks the calling thread.
pub(crate) struct Blocking;

impl Blocking {
    /// The value of a future of this driver: its steps block instead of
    /// waiting, so it is finished after one poll.
    pub(crate) fn finish<F: std::future::Future>(future: F) -> F::Output {
        exec::ready(future)
    }
}

impl Driver for Blocking {
    type Lines<T> = LineStream<T>;

    async fn output(
        &self,
        cmd: &Cmd,
        limits: &Limits,
        observer: Option<&Observer>,
    ) -> Result<Output> {
        exec::run_observed(cmd, limits, observer)
    }

    async fn sleep(&self, duration: Duration) -> Result<()> {
        exec::sleep(duration)
    }

    async fn sleep_through_interrupts(&self, duration: Duration) {
        exec::sleep_through_interrupts(duration);
    }

    async fn offload<R: Send + 'static>(&self, work: impl FnOnce() -> R + Send + 'static) -> R {
        work()
    }

    fn start_lines<T>(&self, decoded: Decoded<T>) -> Result<LineStream<T>> {
        LineStream::start(decoded)
    }

    async fn next_line<T>(&self, lines: &mut LineStream<T>, deadline: Option<Instant>) -> Next<T> {
        lines.next_before(deadline)
    }
}

/// Runs on tokio: `tokio::process`, tokio timers, `spawn_blocking`.
#[cfg(feature = "tokio")]
pub(crate) struct Tokio;

#[cfg(feature = "tokio")]
impl Driver for Tokio {
    type Lines<T> = super::stream::AsyncLineStream<T>;

    async fn output(
        &self,
        cmd: &Cmd,
        limits: &Limits,
        _observer: Option<&Observer>,
    ) -> Result<Output> {
        exec::run_async(cmd, limits).await
    }

    async fn sleep(&self, duration: Duration) -> Result<()> {
        exec::sleep_async(duration).await
    }

    async fn sleep_through_interrupts(&self, duration: Duration) {
        exec::sleep_async_through_interrupts(duration).await;
    }

    async fn offload<R: Send + 'static>(&self, work: impl FnOnce() -> R + Send + 'static) -> R {
        match tokio::task::spawn_blocking(work).await {
            Ok(value) => value,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }

    fn start_lines<T>(&self, decoded: Decoded<T>) -> Result<Self::Lines<T>> {
        super::stream::AsyncLineStream::start(decoded)
    }

    async fn next_line<T>(&self, lines: &mut Self::Lines<T>, deadline: Option<Instant>) -> Next<T> {
        lines.next_before(deadline).await
    }
}
