//! SIGINT/SIGTERM turned into a flag the executors poll.
//!
//! Children run in their own process group, so a Ctrl-C on the terminal does
//! not reach them: dockhand must kill them itself. A program that wants that
//! (the CLI does) calls [`install`]; executors then notice the signal within a
//! few tens of milliseconds, kill the child's group, reap it and return an
//! [`ErrorKind::Interrupted`](crate::ErrorKind::Interrupted) error.
//! Libraries that link dockhand and never call `install` keep their own
//! signal handling untouched.

use std::sync::atomic::{AtomicI32, Ordering};

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

static PENDING: AtomicI32 = AtomicI32::new(0);

extern "C" fn record(signal: nix::libc::c_int) {
    // Only an atomic store: async-signal-safe.
    PENDING.store(signal, Ordering::SeqCst);
}

/// Record SIGINT and SIGTERM instead of dying on them.
///
/// ```
/// dockhand::exec::signals::install().unwrap();
/// assert_eq!(dockhand::exec::signals::pending(), None);
/// ```
pub fn install() -> nix::Result<()> {
    let action = SigAction::new(
        SigHandler::Handler(record),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for sig in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handler only performs an atomic store.
        unsafe { sigaction(sig, &action) }?;
    }
    Ok(())
}

/// The signal received since [`install`], if any.
pub fn pending() -> Option<i32> {
    match PENDING.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}
