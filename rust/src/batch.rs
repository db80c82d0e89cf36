//! Batches across every core: a gateway signs, verifies, packs and unpacks many messages at
//! once. `parallel_map` splits work into contiguous runs, one scoped thread per core;
//! `Pipeline` feeds chunks to the shared helper threads while the caller works between
//! them. Results keep the input order and each item succeeds or fails on its own. A batch keeps every core busy on
//! its own, so the items inside run without the codec's two-core overlap (`overlap`).

use crate::overlap::{serial, Pending};
use std::num::NonZeroUsize;
use std::sync::Arc;

/// Items per part of a pipelined chunk: small enough to share a chunk evenly between the
/// helpers and a caller that is also converting, large enough to amortise the hand-off.
const PART_ITEMS: usize = 32;

/// Below this many items per thread, spawning costs more than it saves.
const MIN_ITEMS_PER_THREAD: usize = 8;

/// How many threads a batch of `n` items uses: one per core, at most `limit` if given.
pub fn threads_for(n: usize, limit: Option<usize>) -> usize {
    let cores = std::thread::available_parallelism().map(NonZeroUsize::get).unwrap_or(1);
    cores.min(limit.unwrap_or(usize::MAX)).min(n / MIN_ITEMS_PER_THREAD).max(1)
}

/// `items.iter().map(f)` on up to every core, in order.
///
/// ```
/// let squares = medpay_core::batch::parallel_map(&[1, 2, 3], None, |x| x * x);
/// assert_eq!(squares, vec![1, 4, 9]);
/// ```
pub fn parallel_map<T, R, F>(items: &[T], threads: Option<usize>, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let threads = threads_for(items.len(), threads);
    if threads == 1 {
        return serial(|| items.iter().map(&f).collect());
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(move || serial(|| part.iter().map(f).collect::<Vec<R>>())))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for h in handles {
            match h.join() {
                Ok(part) => out.extend(part),
                // A panic in a worker is a bug; re-raise it on this thread rather than
                // returning a short result.
                Err(p) => std::panic::resume_unwind(p),
            }
        }
        out
    })
}

/// Like [`parallel_map`], consuming the items (no clones when `f` needs ownership).
pub fn parallel_map_owned<T, R, F>(items: Vec<T>, threads: Option<usize>, f: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(T) -> R + Sync,
{
    let threads = threads_for(items.len(), threads);
    if threads == 1 {
        return serial(|| items.into_iter().map(&f).collect());
    }
    let parts = split(items, threads);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| s.spawn(move || serial(|| part.into_iter().map(f).collect::<Vec<R>>())))
            .collect();
        let mut out = Vec::new();
        for h in handles {
            match h.join() {
                Ok(part) => out.extend(part),
                Err(p) => std::panic::resume_unwind(p),
            }
        }
        out
    })
}

/// Split `items` into `parts` contiguous runs of nearly equal length, in order.
fn split<T>(mut items: Vec<T>, parts: usize) -> Vec<Vec<T>> {
    let chunk = items.len().div_ceil(parts.max(1)).max(1);
    let mut out = Vec::with_capacity(parts);
    while items.len() > chunk {
        let tail = items.split_off(items.len() - chunk);
        out.push(tail);
    }
    out.push(items);
    out.reverse();
    out
}

/// A batch in chunks: each chunk is split into parts that the helper threads of
/// [`crate::overlap`] process while the caller prepares the next chunk and consumes the
/// previous one (the Python layer converts objects meanwhile, which only one thread can
/// do); a caller that has to wait for a chunk processes its unstarted parts itself.
/// Results come back in order, chunk by chunk.
pub struct Pipeline<T, R> {
    work: Arc<dyn Fn(T) -> R + Send + Sync>,
    threads: Option<usize>,
    running: Vec<Pending<Vec<R>>>,
}

impl<T: Send + 'static, R: Send + 'static> Pipeline<T, R> {
    /// A pipeline applying `work` to every item on every core, or on at most `threads`
    /// threads when that is fewer than the cores (each chunk then runs within
    /// [`Pipeline::push`], without overlap; `Some(1)` keeps it all on the calling thread).
    ///
    /// ```
    /// use medpay_core::batch::Pipeline;
    /// let mut p = Pipeline::new(|x: u32| x * 2, None);
    /// let mut out = Vec::new();
    /// for chunk in [vec![1, 2], vec![3]] {
    ///     out.extend(p.push(chunk).unwrap_or_default());
    /// }
    /// out.extend(p.finish().unwrap_or_default());
    /// assert_eq!(out, vec![2, 4, 6]);
    /// ```
    pub fn new(work: impl Fn(T) -> R + Send + Sync + 'static, threads: Option<usize>) -> Self {
        Pipeline { work: Arc::new(work), threads, running: Vec::new() }
    }

    /// Start `chunk`; returns the results of the chunk started before it, if any.
    pub fn push(&mut self, chunk: Vec<T>) -> Option<Vec<R>> {
        if chunk.is_empty() {
            return None;
        }
        let cores = std::thread::available_parallelism().map(NonZeroUsize::get).unwrap_or(1);
        if let Some(cap) = self.threads.filter(|&n| n < cores) {
            // A cap below the core count: no shared helpers (they could exceed it), the
            // chunk runs here on at most `cap` threads.
            let mut done = self.finish().unwrap_or_default();
            let work = &self.work;
            done.extend(parallel_map_owned(chunk, Some(cap), |item| work(item)));
            return Some(done);
        }
        // Small parts, queued before waiting for the previous chunk: the helpers never idle
        // while the caller consumes it, and the caller takes what is left when it is done.
        let parts = chunk.len().div_ceil(PART_ITEMS);
        let next: Vec<_> = split(chunk, parts)
            .into_iter()
            .map(|part| {
                let work = self.work.clone();
                crate::overlap::spawn(move || part.into_iter().map(|item| work(item)).collect())
            })
            .collect();
        let previous = self.finish();
        self.running = next;
        previous
    }

    /// Wait for the running chunk (processing its unstarted parts here) and return its
    /// results.
    pub fn finish(&mut self) -> Option<Vec<R>> {
        if self.running.is_empty() {
            return None;
        }
        let running = std::mem::take(&mut self.running);
        // Parts run here are items of a batch too: no nested overlap. Unstarted parts first,
        // from the back of the queue, then wait for those the helpers have.
        serial(|| {
            running.iter().rev().for_each(Pending::help);
            Some(running.into_iter().flat_map(Pending::wait).collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_for_every_size() {
        for n in [0usize, 1, 7, 8, 9, 100, 1001] {
            let v: Vec<usize> = (0..n).collect();
            assert_eq!(parallel_map(&v, None, |x| x * 2), v.iter().map(|x| x * 2).collect::<Vec<_>>());
        }
    }

    #[test]
    fn owned_variant_keeps_order_for_every_size() {
        for n in [0usize, 1, 9, 17, 100, 1001] {
            let v: Vec<String> = (0..n).map(|i| i.to_string()).collect();
            assert_eq!(
                parallel_map_owned(v.clone(), Some(3), |x| x + "!"),
                v.iter().map(|x| format!("{x}!")).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn pipeline_keeps_order_for_every_chunk_size_and_thread_count() {
        for threads in [None, Some(1), Some(2), Some(64)] {
            let mut p = Pipeline::new(|x: usize| x * 3, threads);
            let mut out = Vec::new();
            let mut next = 0;
            for size in [0usize, 1, 31, 32, 33, 100, 7, 256] {
                out.extend(p.push((next..next + size).collect()).unwrap_or_default());
                next += size;
            }
            out.extend(p.finish().unwrap_or_default());
            assert_eq!(out, (0..next).map(|x| x * 3).collect::<Vec<_>>(), "{threads:?}");
        }
    }

    #[test]
    fn a_panic_in_a_pipelined_item_reaches_the_caller() {
        let mut p = Pipeline::new(|x: u32| if x == 40 { panic!("bad item") } else { x }, None);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = p.push((0..64).collect());
            p.finish()
        }));
        assert!(outcome.is_err());
    }

    #[test]
    fn small_batches_stay_on_one_thread() {
        assert_eq!(threads_for(3, None), 1);
        assert!(threads_for(10_000, None) >= 1);
        assert_eq!(threads_for(10_000, Some(1)), 1);
    }
}
