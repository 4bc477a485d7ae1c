//! SIGINT/SIGTERM/SIGHUP turned into a flag the executors poll.
//!
//! Children run in their own process group, so a Ctrl-C on the terminal does
//! not reach them: dockhand must kill them itself. A program that wants that
//! (the CLI does) calls [`install`]; executors then notice the signal within a
//! few tens of milliseconds, kill the child's group, reap it and return an
//! [`ErrorKind::Interrupted`](crate::ErrorKind::Interrupted) error.
//! Libraries that link dockhand and never call `install` keep their own
//! signal handling untouched. SIGHUP (the terminal closed, the ssh
//! connection dropped) is handled like SIGTERM.
//!
//! SIGKILL cannot be handled: for that case every child is spawned with
//! `PR_SET_PDEATHSIG` = SIGKILL (see `exec`), so the engine CLI dockhand
//! started dies with it. What the kernel does not cover: a child that
//! `exec`s a set-uid program (`sudo`) loses that setting, and grandchildren
//! (docker under sudo, a process that left the group) are not reached.

use std::sync::atomic::{AtomicI32, Ordering};

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

static PENDING: AtomicI32 = AtomicI32::new(0);

extern "C" fn record(signal: nix::libc::c_int) {
    // Only an atomic store: async-signal-safe.
    PENDING.store(signal, Ordering::SeqCst);
}

/// Record SIGINT, SIGTERM and SIGHUP instead of dying on them.
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
    for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
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
