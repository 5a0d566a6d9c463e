//! Work done ahead of the writer. Building or loading an Automerge document is CPU work of its
//! own per record; storing it is SQLite work on the one thread that holds the write
//! transaction. Worker threads do the first for every item while the writer stores each one as
//! soon as it is ready, in the items' order, so the two overlap instead of following each other
//! (an import, a bootstrap page).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// The results of the work, as the workers deliver them, in any order.
pub(crate) struct Ahead<R> {
    /// Per item: `None` until it arrives.
    got: Vec<Option<R>>,
    rx: Option<mpsc::Receiver<(usize, R)>>,
}

impl<R> Ahead<R> {
    /// Waits until item `i` is there; false when it never will be (every worker gone without
    /// it: one panicked, or `i` is out of range).
    fn wait(&mut self, i: usize) -> bool {
        while self.got.get(i).is_some_and(Option::is_none) {
            let Some(Ok((j, r))) = self.rx.as_ref().map(mpsc::Receiver::recv) else {
                self.rx = None;
                return false;
            };
            self.got[j] = Some(r);
        }
        self.got.get(i).is_some_and(Option::is_some)
    }

    /// Item `i`'s result, waiting for it if it is on its way.
    pub(crate) fn get(&mut self, i: usize) -> Option<&R> {
        if self.wait(i) { self.got[i].as_ref() } else { None }
    }

    /// Item `i`'s result, moved out, waiting for it if it is on its way.
    pub(crate) fn take(&mut self, i: usize) -> Option<R> {
        if self.wait(i) { self.got[i].take() } else { None }
    }
}

/// The threads worth starting for `items` items of work, on this machine: none below `from`
/// (threads cost more than they save on a few items), else one per core, at most `most`.
/// (`available_parallelism` reads cgroup files, 50–60 µs: asked only for enough work.)
pub(crate) fn threads(items: usize, from: usize, most: usize) -> usize {
    if items < from {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |c| c.get()).min(most)
    }
}

/// Runs `work(i)` for every `i` in `0..n` on `threads` worker threads while `then` takes the
/// results on the calling thread; with fewer than two threads, all of the work first, on the
/// calling thread. Workers stop early once `then` has returned.
pub(crate) fn run<R: Send, X>(
    n: usize,
    threads: usize,
    work: impl Fn(usize) -> R + Sync,
    then: impl FnOnce(&mut Ahead<R>) -> X,
) -> X {
    if threads < 2 {
        let got = (0..n).map(|i| Some(work(i))).collect();
        return then(&mut Ahead { got, rx: None });
    }
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let (send, rx) = mpsc::channel();
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (send, next, work) = (send.clone(), &next, &work);
                s.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        // The caller is done (finished, or stopped at an error): nothing more
                        // is wanted.
                        if i >= n || send.send((i, work(i))).is_err() {
                            break;
                        }
                    }
                })
            })
            .collect();
        drop(send);
        let mut ahead = Ahead { got: (0..n).map(|_| None).collect(), rx: Some(rx) };
        let out = then(&mut ahead);
        drop(ahead);
        // A worker that panicked only left its items missing, which `then` was told; joined
        // here, it does not fail the caller.
        for w in workers {
            let _ = w.join();
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_result_arrives_in_the_callers_order_whatever_order_the_workers_finish_in() {
        for threads in [1, 2, 4] {
            let seen = run(
                200,
                threads,
                |i| {
                    // Later items finish first on some threads.
                    if i % 7 == 0 {
                        std::thread::sleep(std::time::Duration::from_micros(200));
                    }
                    i * 3
                },
                |a| (0..200).map(|i| a.take(i)).collect::<Vec<_>>(),
            );
            assert_eq!(seen, (0..200).map(|i| Some(i * 3)).collect::<Vec<_>>(), "{threads}");
        }
    }

    #[test]
    fn an_item_a_panicked_worker_never_delivered_is_reported_missing_not_waited_for() {
        let got = run(
            50,
            2,
            |i| {
                if i == 10 {
                    panic!("a bug in the work");
                }
                i
            },
            |a| (a.get(9).copied(), a.take(10), a.get(10).copied(), a.get(50).copied()),
        );
        // Item 9 may or may not have been delivered before the panic on its thread; 10 never.
        assert!(matches!(got.0, Some(9) | None));
        assert_eq!((got.1, got.2, got.3), (None, None, None));
    }

    #[test]
    fn a_caller_that_stops_early_stops_the_workers() {
        let done = AtomicUsize::new(0);
        let first = run(
            1_000,
            2,
            |i| {
                std::thread::sleep(std::time::Duration::from_millis(1));
                done.fetch_add(1, Ordering::Relaxed);
                i
            },
            |a| a.take(0),
        );
        assert_eq!(first, Some(0));
        // All of it would take the two workers half a second.
        assert!(done.load(Ordering::Relaxed) < 1_000, "the workers stopped early");
    }
}
