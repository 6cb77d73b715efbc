//! The kept-alive clients between two requests, oldest first: when slots
//! run short the one that waited longest is closed (issue 23).

use std::collections::BTreeMap;

use tokio::sync::oneshot;

/// Kept-alive client connections waiting for their next request, in the
/// order they began to wait, each with the way to tell it to close.
/// A connection is listed only between two requests, so closing one never
/// cuts a request short.
#[derive(Default)]
pub(super) struct IdleClients(std::sync::Mutex<IdleList>);

#[derive(Default)]
pub(super) struct IdleList {
    next: u64,
    pub(super) waiting: BTreeMap<u64, oneshot::Sender<()>>,
}

impl IdleClients {
    pub(super) fn list(&self) -> std::sync::MutexGuard<'_, IdleList> {
        // Nothing panics while it is held: a poisoned list is still whole.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Lists a client that begins to wait; its number, and what says
    /// "close now".
    pub(super) fn park(&self) -> (u64, oneshot::Receiver<()>) {
        let (close, closing) = oneshot::channel();
        let mut list = self.list();
        let id = list.next;
        list.next += 1;
        list.waiting.insert(id, close);
        (id, closing)
    }

    pub(super) fn unpark(&self, id: u64) {
        self.list().waiting.remove(&id);
    }

    /// Tells the client that has waited longest to close, if any waits.
    pub(super) fn close_oldest(&self) {
        let mut list = self.list();
        while let Some((_, close)) = list.waiting.pop_first() {
            // A failed send: that client has just stopped waiting (its
            // request is served); the next one, then.
            if close.send(()).is_ok() {
                return;
            }
        }
    }
}
