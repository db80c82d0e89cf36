//! Jobs on helper threads while the caller does something else: the envelope codec signs
//! on one core while it encrypts on another, the Python layer verifies a large message
//! while it builds the Python objects (which needs the GIL, so it cannot move), and a
//! pipelined batch processes one chunk while the caller converts the next.
//!
//! The caller never waits for a busy helper: [`Pending::wait`] runs the job itself if no
//! helper has started it yet, so a loaded machine costs nothing over doing the work in
//! turn. Inside [`serial`] (each batch item, each helper job) jobs run on the caller's
//! thread: the cores are busy already.

use std::cell::Cell;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

type Task = Box<dyn FnOnce() + Send>;
type Outcome<T> = std::thread::Result<T>;

struct Shared<T> {
    job: Mutex<Option<Box<dyn FnOnce() -> T + Send>>>,
    outcome: Mutex<Option<Outcome<T>>>,
    finished: AtomicBool,
    done: Condvar,
}

impl<T> Shared<T> {
    /// Run the job if nobody has taken it yet.
    fn run(&self) {
        let job = lock(&self.job).take();
        if let Some(job) = job {
            let outcome = catch_unwind(AssertUnwindSafe(job));
            *lock(&self.outcome) = Some(outcome);
            self.finished.store(true, Ordering::Release);
            self.done.notify_all();
        }
    }
}

/// A mutex's guard even if a panic poisoned it (the data here is a plain Option).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A job handed to a helper thread; [`Pending::wait`] returns its result.
pub struct Pending<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Pending<T> {
    /// Run the job on this thread now if no helper has started it (a caller with several
    /// jobs pending helps with the last-queued first, which the helpers reach last).
    pub fn help(&self) {
        self.shared.run();
    }

    /// The job's result: run here if no helper has started it, else wait for it. A panic in
    /// the job resumes on this thread.
    pub fn wait(self) -> T {
        self.help();
        // The helper is on the job: poll for a while, as it likely finishes sooner than a
        // sleeping thread could be woken.
        let polling = Instant::now();
        while !self.shared.finished.load(Ordering::Acquire) && polling.elapsed() < STAY_AWAKE {
            pause(polling);
        }
        let mut outcome = lock(&self.shared.outcome);
        loop {
            match outcome.take() {
                Some(Ok(v)) => return v,
                Some(Err(panic)) => resume_unwind(panic),
                None => outcome = self.shared.done.wait(outcome).unwrap_or_else(|e| e.into_inner()),
            }
        }
    }
}

thread_local! {
    static SERIAL: Cell<bool> = const { Cell::new(false) };
}

/// Run `f` with [`spawn`] turned off on this thread (jobs then run in `wait`).
pub fn serial<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            SERIAL.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(SERIAL.with(|s| s.replace(true)));
    f()
}

enum Message {
    Run(Task),
    /// A job is coming soon: be awake for it ([`prepare`]).
    Wake,
}

/// How long the helper keeps polling for work before it sleeps. Waking a sleeping thread
/// takes about 20 µs on a virtual machine, as long as the work being overlapped; a helper
/// that is already polling starts a job in well under a microsecond.
const STAY_AWAKE: Duration = Duration::from_micros(200);

/// One step of polling that began at `since`: a spin at first, then a yield, so that a
/// poller sharing a core with the thread it waits for (a busy machine) lets it run.
fn pause(since: Instant) {
    if since.elapsed() < Duration::from_micros(20) {
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
}

/// The helpers of one process: threads do not survive `fork`, so a child (a server's
/// worker forked after import) starts its own on first use.
struct Helpers {
    pid: u32,
    queue: Option<Sender<Message>>,
}

static HELPERS: AtomicPtr<Helpers> = AtomicPtr::new(std::ptr::null_mut());

/// The helpers' queue, started on first use in this process: one helper per core beyond
/// the caller's, none on a single core. A job that finds them all busy runs in `wait` on
/// its caller's thread. Lock-free, so a fork at any moment cannot leave it locked.
fn helper() -> Option<&'static Sender<Message>> {
    let pid = std::process::id();
    let current = HELPERS.load(Ordering::Acquire);
    // SAFETY: a non-null pointer here came from Box::into_raw and is never freed.
    if let Some(h) = unsafe { current.as_ref() } {
        if h.pid == pid {
            return h.queue.as_ref();
        }
    }
    let fresh = Box::into_raw(Box::new(Helpers { pid, queue: start_helpers() }));
    match HELPERS.compare_exchange(current, fresh, Ordering::AcqRel, Ordering::Acquire) {
        // SAFETY: just stored; never freed (the parent's set, if any, stays too: a few bytes).
        Ok(_) => unsafe { (*fresh).queue.as_ref() },
        Err(winner) => {
            // Another thread started helpers first: ours exit once their queue is dropped.
            // SAFETY: `fresh` was never shared; `winner` is non-null and never freed.
            drop(unsafe { Box::from_raw(fresh) });
            unsafe { (*winner).queue.as_ref() }
        }
    }
}

fn start_helpers() -> Option<Sender<Message>> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let (tx, rx) = channel::<Message>();
    let rx = Arc::new(Mutex::new(rx));
    let started = (1..cores)
        .filter(|i| {
            let rx = rx.clone();
            let named = std::thread::Builder::new().name(format!("medpay-helper-{i}"));
            named.spawn(move || helper_loop(&rx)).is_ok()
        })
        .count();
    (started > 0).then_some(tx)
}

fn helper_loop(rx: &Mutex<Receiver<Message>>) {
    let mut awake_since = Instant::now();
    loop {
        let polled = lock(rx).try_recv();
        let message = match polled {
            Ok(m) => m,
            Err(TryRecvError::Empty) if awake_since.elapsed() < STAY_AWAKE => {
                pause(awake_since);
                continue;
            }
            Err(TryRecvError::Empty) => match lock(rx).recv() {
                Ok(m) => m,
                Err(_) => return,
            },
            Err(TryRecvError::Disconnected) => return,
        };
        if let Message::Run(task) = message {
            // A job never spawns onto the helpers itself: they could all end up waiting.
            serial(task);
        }
        awake_since = Instant::now();
    }
}

fn enabled() -> Option<&'static Sender<Message>> {
    if SERIAL.with(Cell::get) {
        None
    } else {
        helper()
    }
}

/// Drop `value` on a helper thread, off the caller's path (for values whose drop costs,
/// such as a decrypted message wiped before it is freed); on this thread when there is no
/// helper or inside [`serial`].
///
/// ```
/// medpay_core::overlap::discard(vec![0u8; 1 << 20]);
/// ```
pub fn discard<T: Send + 'static>(value: T) {
    if let Some(queue) = enabled() {
        // A failed send hands the task back, and with it the value, dropped here.
        let _ = queue.send(Message::Run(Box::new(move || drop(value))));
    }
}

/// Tell the helper that a job will follow shortly, so that it is awake when it comes (call
/// it before work that precedes a [`spawn`], such as parsing the message).
pub fn prepare() {
    if let Some(queue) = enabled() {
        let _ = queue.send(Message::Wake);
    }
}

/// Start `job` on the helper thread (or leave it for [`Pending::wait`] when there is no
/// helper, or inside [`serial`]).
///
/// ```
/// let pending = medpay_core::overlap::spawn(|| (1..=10).sum::<u32>());
/// let here = 6 * 7;
/// assert_eq!((pending.wait(), here), (55, 42));
/// ```
pub fn spawn<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> Pending<T> {
    let shared = Arc::new(Shared {
        job: Mutex::new(Some(Box::new(job))),
        outcome: Mutex::new(None),
        finished: AtomicBool::new(false),
        done: Condvar::new(),
    });
    if let Some(queue) = enabled() {
        let on_helper = shared.clone();
        // If the queue is gone the job simply runs in `wait`.
        let _ = queue.send(Message::Run(Box::new(move || on_helper.run())));
    }
    Pending { shared }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Says on a channel which thread dropped it.
    struct Tattle(std::sync::mpsc::Sender<std::thread::ThreadId>);
    impl Drop for Tattle {
        fn drop(&mut self) {
            let _ = self.0.send(std::thread::current().id());
        }
    }

    #[test]
    fn a_discarded_value_is_dropped_on_a_helper_or_at_once_in_serial() {
        let (tx, rx) = std::sync::mpsc::channel();
        discard(Tattle(tx.clone()));
        // Blocks until some thread drops it (a helper, or this one on a single core).
        rx.recv().unwrap();
        serial(|| discard(Tattle(tx)));
        assert_eq!(rx.try_recv(), Ok(std::thread::current().id()));
    }

    #[test]
    fn results_come_back_whoever_runs_the_job() {
        let jobs: Vec<_> = (0..100u64).map(|i| spawn(move || i * i)).collect();
        let got: Vec<u64> = jobs.into_iter().map(Pending::wait).collect();
        assert_eq!(got, (0..100u64).map(|i| i * i).collect::<Vec<_>>());
    }

    #[test]
    fn inside_serial_the_job_runs_on_the_calling_thread() {
        let caller = std::thread::current().id();
        let ran_on = serial(|| spawn(|| std::thread::current().id()).wait());
        assert_eq!(ran_on, caller);
    }

    #[test]
    fn a_panicking_job_panics_in_wait_instead_of_hanging() {
        let pending = spawn(|| -> u8 { panic!("job failed") });
        assert!(catch_unwind(AssertUnwindSafe(|| pending.wait())).is_err());
        // The helpers survive and keep working.
        assert_eq!(spawn(|| 7).wait(), 7);
    }
}
