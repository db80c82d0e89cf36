//! Batches across every core: a gateway signs, verifies, packs and unpacks many messages at
//! once. Work is split into contiguous chunks, one scoped thread per core; results keep the
//! input order and each item succeeds or fails on its own. A batch keeps every core busy on
//! its own, so the items inside run without the codec's two-core overlap (`overlap`).

use crate::overlap::serial;
use std::num::NonZeroUsize;

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
pub fn parallel_map_owned<T, R, F>(mut items: Vec<T>, threads: Option<usize>, f: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(T) -> R + Sync,
{
    let threads = threads_for(items.len(), threads);
    if threads == 1 {
        return serial(|| items.into_iter().map(&f).collect());
    }
    let chunk = items.len().div_ceil(threads);
    let mut parts = Vec::with_capacity(threads);
    while items.len() > chunk {
        let tail = items.split_off(items.len() - chunk);
        parts.push(tail);
    }
    parts.push(items);
    parts.reverse();
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> =
            parts.into_iter().map(|part| s.spawn(move || serial(|| part.into_iter().map(f).collect::<Vec<R>>()))).collect();
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
            assert_eq!(parallel_map_owned(v.clone(), Some(3), |x| x + "!"), v.iter().map(|x| format!("{x}!")).collect::<Vec<_>>());
        }
    }

    #[test]
    fn small_batches_stay_on_one_thread() {
        assert_eq!(threads_for(3, None), 1);
        assert!(threads_for(10_000, None) >= 1);
        assert_eq!(threads_for(10_000, Some(1)), 1);
    }
}
