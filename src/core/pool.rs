//! The bounded worker pool behind the non-blocking API, with per-call cancellation and deadlines.
//!
//! One pool per process (per fork generation: a forked child builds its own on first use). `N`
//! worker threads take jobs from a bounded FIFO queue; a full queue refuses new calls with
//! [`ErrorKind::QueueFull`] at once. One more thread, the completer, delivers cancellations and
//! deadline expiries, so a cancelled caller is answered promptly even while its job is queued,
//! waiting on a single-flight fetch, or inside an HTTP exchange. The job itself is not torn down:
//! a fetch already under way runs to its end and fills the cache for everybody else, which is
//! why cancelling never leaves the cache half-updated and never burns the unknown-`kid` cooldown
//! (a call cancelled before its job starts never fetches at all).
//!
//! Every accepted call completes exactly once: whoever first flips its `taken` flag (the worker
//! with the job's result, or the completer with `Cancelled` / `DeadlineExceeded`) runs `done`;
//! the other side drops its outcome. `done` always runs on a pool thread, never on the caller's.
//!
//! A multi-step call ([`spawn_steps`], the device and CIBA polls) runs one step per worker turn:
//! a step that answers [`Step::Again`] hands the call to the completer's timer heap and frees
//! its worker; when the delay is over the completer queues the call again (past the queue bound:
//! only new calls are refused). Cancellation and deadlines answer a waiting call at once; a later
//! step sees it answered and never runs.
//!
//! [`shutdown`] stops the pool and joins its threads (a host whose runtime cannot exit while a
//! foreign thread that ran its code is alive, such as Mono, calls it at process exit). Calls still
//! queued or waiting on the timer complete with `Cancelled`, running ones finish; the next call
//! starts a new pool.

use std::cell::Cell;
use std::collections::{BinaryHeap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use std::sync::{Condvar, Mutex, Once};

use super::error::{Error, ErrorKind, Result};
use super::log::{Level, emit};
use super::metrics;
use super::runtime::{Gen, PerFork, ensure_fork_handler, fork_generation, lock};

/// Default worker threads: the number of CPUs, at least 2 and at most 8.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(2, 8)
}
/// Default bound on queued (not yet started) calls.
pub const DEFAULT_QUEUE_CAPACITY: usize = 4096;
/// Hard ceilings on the configurable bounds.
pub const MAX_THREADS: usize = 256;
pub const MAX_QUEUE_CAPACITY: usize = 1 << 20;

static THREADS: AtomicUsize = AtomicUsize::new(0);
static QUEUE_CAPACITY: AtomicUsize = AtomicUsize::new(DEFAULT_QUEUE_CAPACITY);

/// Set the pool bounds. The queue bound applies at once; the thread count to pools built later
/// (the first non-blocking call of this process, or of a forked child). `threads == 0` keeps the
/// default.
pub fn configure(threads: usize, queue_capacity: usize) -> Result<()> {
    if threads > MAX_THREADS || queue_capacity == 0 || queue_capacity > MAX_QUEUE_CAPACITY {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("pool bounds: threads 0..={MAX_THREADS} (0 = default), queue 1..={MAX_QUEUE_CAPACITY}"),
        ));
    }
    THREADS.store(threads, Ordering::Relaxed);
    QUEUE_CAPACITY.store(queue_capacity, Ordering::Relaxed);
    Ok(())
}

/// How a call ended when its work did not produce the result.
#[derive(Debug)]
pub enum Outcome<T> {
    /// The work ran and returned.
    Done(T),
    /// Cancelled through its [`Cancel`] handle.
    Cancelled,
    /// Its [`Cancel`] handle's deadline passed first.
    DeadlineExceeded,
    /// The work panicked (a bug); the message.
    Panicked(String),
}

/// Work for the completer thread.
type Job = Box<dyn FnOnce() + Send>;
/// Work for a worker; the flag says the pool is shutting down (then a call answers `Cancelled`
/// instead of starting, and background work is skipped).
type Task = Box<dyn FnOnce(bool) + Send>;

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Task>,
    /// Workers waiting on the condition variable (guarded by the same mutex).
    idle: usize,
    /// Set by [`shutdown`]: no new tasks; workers drain the queue and exit.
    closing: bool,
}

/// Why a task was not queued.
enum Refused {
    Full(Error),
    /// The pool is shutting down; the task comes back to be queued on the next pool.
    Closing(Task),
}

thread_local! {
    /// True on the pool's own threads (a callback must not shut down the pool it runs on).
    static ON_POOL_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Something the completer can finish early.
trait Abort: Send + Sync {
    /// Finish with `Cancelled` (`deadline` false) or `DeadlineExceeded`; false if already done.
    fn abort(self: Arc<Self>, deadline: bool) -> bool;
}

type Done<T> = Box<dyn FnOnce(Outcome<T>) + Send>;

/// What one step of a multi-step call ([`spawn_steps`]) decided.
#[derive(Debug)]
pub enum Step<T> {
    /// The call is over with this result.
    Done(T),
    /// Run the next step after this long (without holding a worker meanwhile).
    Again(Duration),
}

type Work<T> = Box<dyn FnMut() -> Step<T> + Send>;

struct Call<T> {
    taken: AtomicBool,
    /// The work, between steps (or until a worker starts it, or the call moves to a new pool).
    work: Mutex<Option<Work<T>>>,
    done: Mutex<Option<Done<T>>>,
    pool: Weak<Gen<Pool>>,
    cancel: Option<Cancel>,
}

impl<T: Send + 'static> Call<T> {
    /// Run `done` with `outcome` unless somebody already did. Caller is a pool thread.
    fn finish(&self, outcome: Outcome<T>) -> bool {
        if self.taken.swap(true, Ordering::AcqRel) {
            return false;
        }
        let f = lock(&self.done).take();
        // A call answered between steps lets go of its work (and what it holds) now.
        drop(lock(&self.work).take());
        match &outcome {
            Outcome::Cancelled => metrics::ASYNC_CANCELLED.inc(),
            Outcome::DeadlineExceeded => metrics::ASYNC_DEADLINE_EXCEEDED.inc(),
            _ => {}
        }
        if let Some(f) = f {
            // A panicking completion must not take the pool thread down.
            let _ = catch_unwind(AssertUnwindSafe(|| f(outcome)));
        }
        metrics::ASYNC_COMPLETED.inc();
        if let Some(p) = self.pool.upgrade() {
            p.in_flight.fetch_sub(1, Ordering::AcqRel);
        }
        true
    }
}

impl<T: Send + 'static> Abort for Call<T> {
    fn abort(self: Arc<Self>, deadline: bool) -> bool {
        if self.taken.load(Ordering::Acquire) {
            return false;
        }
        let Some(p) = self.pool.upgrade() else { return false };
        let me = self;
        p.complete_on_completer(Box::new(move || {
            me.finish(if deadline { Outcome::DeadlineExceeded } else { Outcome::Cancelled });
        }));
        true
    }
}

/// The one cancellation type of liboidc: a handle, optionally with a deadline, shared by the
/// non-blocking calls (the pool answers an attached call at once when it is cancelled or its
/// deadline passes) and the blocking ones (they check it before each network step and wait on it
/// between polls, waking at once when it is cancelled). Shareable between calls (cancelling it
/// cancels all of them); cheap to clone.
#[derive(Clone)]
pub struct Cancel {
    inner: Arc<CancelInner>,
}

struct CancelInner {
    cancelled: AtomicBool,
    deadline: Option<Instant>,
    calls: Mutex<Vec<Weak<dyn Abort>>>,
    /// Wakes blocking waits ([`Cancel::wait_until`]).
    wake: (Mutex<()>, Condvar),
}

impl Default for Cancel {
    fn default() -> Self {
        Cancel::new(None)
    }
}

impl std::fmt::Debug for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cancel").field("cancelled", &self.is_cancelled()).field("deadline", &self.inner.deadline).finish()
    }
}

impl Abort for CancelInner {
    fn abort(self: Arc<Self>, _deadline: bool) -> bool {
        Cancel { inner: self }.cancel();
        true
    }
}

impl Cancel {
    /// A handle; with `timeout`, calls attached to it end with `DeadlineExceeded` once that much
    /// time has passed since now (unless they completed first).
    pub fn new(timeout: Option<Duration>) -> Cancel {
        Cancel::with_deadline(timeout.map(|t| Instant::now() + t))
    }

    fn with_deadline(deadline: Option<Instant>) -> Cancel {
        Cancel {
            inner: Arc::new(CancelInner {
                cancelled: AtomicBool::new(false),
                deadline,
                calls: Mutex::new(Vec::new()),
                wake: (Mutex::new(()), Condvar::new()),
            }),
        }
    }

    /// The handle one call runs under: `parent` (the host's handle, may be absent) narrowed by the
    /// call's own `timeout`. Cancelling the parent cancels it; its deadline is the earlier one.
    /// Without a timeout it is the parent itself (or none).
    pub fn for_call(parent: Option<&Cancel>, timeout: Option<Duration>) -> Option<Cancel> {
        let Some(t) = timeout else { return parent.cloned() };
        let own = Instant::now().checked_add(t);
        let deadline = match (parent.and_then(Cancel::deadline), own) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let child = Cancel::with_deadline(deadline);
        if let Some(p) = parent {
            let weak: Weak<dyn Abort> = Arc::downgrade(&(child.inner.clone() as Arc<dyn Abort>));
            p.attach(weak);
            if p.is_cancelled() {
                child.cancel();
            }
        }
        Some(child)
    }

    /// Cancel every call attached to this handle (now and later). Idempotent; never blocks on
    /// the calls themselves; their completions run on the pool's completer thread.
    pub fn cancel(&self) {
        if self.inner.cancelled.swap(true, Ordering::AcqRel) {
            return;
        }
        {
            let _g = lock(&self.inner.wake.0);
            self.inner.wake.1.notify_all();
        }
        let calls = std::mem::take(&mut *lock(&self.inner.calls));
        for c in calls {
            if let Some(c) = c.upgrade() {
                c.abort(false);
            }
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::Acquire)
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.inner.deadline
    }

    /// Why a call under this handle must stop now: `Cancelled`, `DeadlineExceeded` (its deadline
    /// passed), or nothing.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            return Err(Error::new(ErrorKind::Cancelled, "the call was cancelled"));
        }
        if self.inner.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(Error::new(ErrorKind::DeadlineExceeded, "the call's deadline passed before it completed"));
        }
        Ok(())
    }

    /// Block until `until` (capped at the deadline) or until cancelled, whichever comes first;
    /// then [`check`](Self::check).
    pub fn wait_until(&self, until: Instant) -> Result<()> {
        let until = self.inner.deadline.map_or(until, |d| d.min(until));
        let mut g = lock(&self.inner.wake.0);
        while !self.is_cancelled() {
            let now = Instant::now();
            if now >= until {
                break;
            }
            g = match self.inner.wake.1.wait_timeout(g, until - now) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
        drop(g);
        self.check()
    }

    fn attach(&self, c: Weak<dyn Abort>) {
        let mut v = lock(&self.inner.calls);
        if v.len() >= 64 {
            v.retain(|w| w.strong_count() > 0);
        }
        v.push(c);
    }
}

struct Deadline {
    at: Instant,
    call: Weak<dyn Abort>,
}
impl PartialEq for Deadline {
    fn eq(&self, o: &Self) -> bool {
        self.at == o.at
    }
}
impl Eq for Deadline {}
impl PartialOrd for Deadline {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Deadline {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        o.at.cmp(&self.at) // min-heap
    }
}

/// A multi-step call waiting for its next step (see [`Resume`]).
struct Scheduled {
    at: Instant,
    /// Ties broken first come, first served.
    seq: u64,
    call: Arc<dyn Resume>,
}
impl PartialEq for Scheduled {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (o.at, o.seq).cmp(&(self.at, self.seq)) // min-heap
    }
}

/// A call the completer's timer can hand back to the workers.
trait Resume: Send + Sync {
    /// Completed already (cancelled or past its deadline while it waited).
    fn answered(&self) -> bool;
    /// The worker task running its next step.
    fn task(self: Arc<Self>) -> Task;
}

impl<T: Send + 'static> Resume for Call<T> {
    fn answered(&self) -> bool {
        self.taken.load(Ordering::Acquire)
    }
    fn task(self: Arc<Self>) -> Task {
        Box::new(move |closing| run_call(&self, closing))
    }
}

#[derive(Default)]
struct Completer {
    ready: VecDeque<Job>,
    deadlines: BinaryHeap<Deadline>,
    /// Multi-step calls waiting for their next step. They hold the only strong reference to
    /// their call: the completer may end only when this is empty.
    scheduled: BinaryHeap<Scheduled>,
    seq: u64,
}

/// The pool of one fork generation.
pub struct Pool {
    queue: Mutex<Queue>,
    queue_cv: Condvar,
    completer: Mutex<Completer>,
    completer_cv: Condvar,
    threads: usize,
    /// Accepted calls whose completion has not run yet.
    in_flight: AtomicUsize,
    started: Once,
    handles: Mutex<Vec<JoinHandle<()>>>,
    /// Workers still running (the completer exits after the last one, once closing).
    workers_alive: AtomicUsize,
    /// Pool threads (workers and completer) still running, for [`shutdown`]'s wait.
    alive: Mutex<usize>,
    exit_cv: Condvar,
    closing: AtomicBool,
}

/// Marks a pool thread and counts it out when it ends, however it ends.
struct ThreadExit {
    pool: Arc<Gen<Pool>>,
    worker: bool,
}

impl ThreadExit {
    fn enter(pool: Arc<Gen<Pool>>, worker: bool) -> ThreadExit {
        ON_POOL_THREAD.with(|f| f.set(true));
        ThreadExit { pool, worker }
    }
}

impl Drop for ThreadExit {
    fn drop(&mut self) {
        let p = &self.pool;
        if self.worker {
            // Under the completer's lock, so the completer cannot miss the last worker leaving.
            let _c = lock(&p.completer);
            p.workers_alive.fetch_sub(1, Ordering::AcqRel);
            p.completer_cv.notify_all();
        }
        *lock(&p.alive) -= 1;
        p.exit_cv.notify_all();
    }
}

static POOL: PerFork<Pool> = PerFork::new();

/// The current generation's pool, started on first use.
pub fn global() -> Result<Arc<Gen<Pool>>> {
    POOL.get_or_try_init(|| {
        ensure_fork_handler();
        let threads = match THREADS.load(Ordering::Relaxed) {
            0 => default_threads(),
            n => n,
        };
        if fork_generation() > 0 {
            emit(Level::Info, "oidc::fork", || {
                format!("fork generation {}: starting a new worker pool of {threads} threads", fork_generation())
            });
        }
        Ok(Pool {
            queue: Mutex::new(Queue::default()),
            queue_cv: Condvar::new(),
            completer: Mutex::new(Completer::default()),
            completer_cv: Condvar::new(),
            threads,
            in_flight: AtomicUsize::new(0),
            started: Once::new(),
            handles: Mutex::new(Vec::new()),
            workers_alive: AtomicUsize::new(0),
            alive: Mutex::new(0),
            exit_cv: Condvar::new(),
            closing: AtomicBool::new(false),
        })
    })
    .and_then(|p| {
        start_threads(&p)?;
        Ok(p)
    })
}

fn start_threads(p: &Arc<Gen<Pool>>) -> Result<()> {
    let mut spawn_err = None;
    p.started.call_once(|| {
        let mut handles = lock(&p.handles);
        let mut spawn = |name: String, worker_thread: bool| {
            // Counted before the thread runs, so a shutdown right now waits for it.
            *lock(&p.alive) += 1;
            if worker_thread {
                p.workers_alive.fetch_add(1, Ordering::AcqRel);
            }
            let w = Arc::downgrade(p);
            let r = std::thread::Builder::new().name(name).spawn(move || if worker_thread { worker(w) } else { completer(w) });
            match r {
                Ok(h) => handles.push(h),
                Err(e) => {
                    *lock(&p.alive) -= 1;
                    if worker_thread {
                        p.workers_alive.fetch_sub(1, Ordering::AcqRel);
                    }
                    spawn_err = Some(e.to_string());
                }
            }
        };
        for i in 0..p.threads {
            spawn(format!("oidc-worker-{i}"), true);
        }
        spawn("oidc-completer".into(), false);
    });
    match spawn_err {
        Some(e) => Err(Error::new(ErrorKind::Network, format!("cannot start worker threads: {e}"))),
        None => Ok(()),
    }
}

fn worker(pool: Weak<Gen<Pool>>) {
    let Some(p) = pool.upgrade() else { return };
    let _exit = ThreadExit::enter(p.clone(), true);
    loop {
        let (job, closing) = {
            let mut q = lock(&p.queue);
            loop {
                if let Some(j) = q.jobs.pop_front() {
                    break (j, q.closing);
                }
                if q.closing {
                    return; // drained: the pool is shutting down
                }
                q.idle += 1;
                q = p.queue_cv.wait(q).unwrap_or_else(|e| e.into_inner());
                q.idle -= 1;
            }
        };
        let _ = catch_unwind(AssertUnwindSafe(move || job(closing)));
    }
}

fn completer(pool: Weak<Gen<Pool>>) {
    let Some(p) = pool.upgrade() else { return };
    let _exit = ThreadExit::enter(p.clone(), false);
    loop {
        let mut due: Vec<Weak<dyn Abort>> = Vec::new();
        let mut resume: Vec<Arc<dyn Resume>> = Vec::new();
        let ready = {
            let mut c = lock(&p.completer);
            loop {
                let now = Instant::now();
                while c.deadlines.peek().is_some_and(|d| d.at <= now) {
                    due.push(c.deadlines.pop().expect("peeked").call);
                }
                // Closing: every waiting call is due now (its next step answers it Cancelled).
                let closing = p.closing.load(Ordering::Acquire);
                while c.scheduled.peek().is_some_and(|s| closing || s.at <= now) {
                    resume.push(c.scheduled.pop().expect("peeked").call);
                }
                if !c.ready.is_empty() || !due.is_empty() || !resume.is_empty() {
                    break std::mem::take(&mut c.ready);
                }
                if closing && p.workers_alive.load(Ordering::Acquire) == 0 && c.scheduled.is_empty() {
                    // Every call has completed (a worker finishes or reschedules each call it
                    // takes, nothing is scheduled, and the workers are gone): nothing can be
                    // cancelled or time out any more.
                    return;
                }
                let next = match (c.deadlines.peek().map(|d| d.at), c.scheduled.peek().map(|s| s.at)) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                c = match next {
                    Some(at) => {
                        let left = at.saturating_duration_since(Instant::now());
                        p.completer_cv.wait_timeout(c, left).unwrap_or_else(|e| e.into_inner()).0
                    }
                    None => p.completer_cv.wait(c).unwrap_or_else(|e| e.into_inner()),
                };
            }
        };
        for d in due {
            if let Some(call) = d.upgrade() {
                call.abort(true);
            }
        }
        for job in ready {
            let _ = catch_unwind(AssertUnwindSafe(job));
        }
        for call in resume {
            if call.answered() {
                continue; // cancelled or past its deadline while it waited: nothing to run
            }
            // Back to the workers, past the queue bound (an accepted call is never refused);
            // a closing queue hands the task back and it answers `Cancelled` here and now.
            if let Err(Refused::Closing(task)) = p.enqueue(call.task(), None) {
                let _ = catch_unwind(AssertUnwindSafe(move || task(true)));
            }
        }
    }
}

impl Pool {
    fn complete_on_completer(&self, job: Job) {
        lock(&self.completer).ready.push_back(job);
        self.completer_cv.notify_one();
    }

    /// Calls accepted and not yet completed.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// Jobs waiting for a worker.
    pub fn queue_depth(&self) -> usize {
        lock(&self.queue).jobs.len()
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Hand a multi-step call to the completer's timer: its next step is queued after `delay`.
    fn schedule(&self, delay: Duration, call: Arc<dyn Resume>) {
        let mut c = lock(&self.completer);
        c.seq += 1;
        let seq = c.seq;
        c.scheduled.push(Scheduled { at: Instant::now() + delay, seq, call });
        drop(c);
        self.completer_cv.notify_one();
    }

    /// Queue a new call's task, within the queue bound.
    fn push(&self, job: Task) -> std::result::Result<(), Refused> {
        self.enqueue(job, Some(QUEUE_CAPACITY.load(Ordering::Relaxed)))
    }

    /// Queue a task: refused when the pool is closing (the task comes back) or, with a `bound`,
    /// when that many tasks wait already. The next step of an accepted call passes no bound.
    fn enqueue(&self, job: Task, bound: Option<usize>) -> std::result::Result<(), Refused> {
        let wake = {
            let mut q = lock(&self.queue);
            if q.closing {
                return Err(Refused::Closing(job));
            }
            if let Some(cap) = bound.filter(|&cap| q.jobs.len() >= cap) {
                return Err(Refused::Full(Error::new(
                    ErrorKind::QueueFull,
                    format!("the worker queue is full ({cap} calls waiting); retry later or raise the bound"),
                )));
            }
            q.jobs.push_back(job);
            q.idle > 0
        };
        // Only a sleeping worker needs the (syscall) wake-up; busy ones find the job themselves.
        if wake {
            self.queue_cv.notify_one();
        }
        Ok(())
    }
}

/// Run `work` on the pool and hand its outcome to `done`, exactly once, on a pool thread. With
/// `cancel`, the call may end early with `Cancelled` / `DeadlineExceeded` (then `work`, if it
/// already started, finishes in the background and its result is dropped). Errors (queue full,
/// no threads) are returned at once and `done` is never called.
pub fn spawn<T, W, D>(work: W, done: D, cancel: Option<&Cancel>) -> Result<()>
where
    T: Send + 'static,
    W: FnOnce() -> T + Send + 'static,
    D: FnOnce(Outcome<T>) + Send + 'static,
{
    let mut work = Some(work);
    spawn_steps(move || Step::Done(work.take().expect("a one-step call runs once")()), done, cancel)
}

/// Like [`spawn`], for a call made of steps: a worker runs `step`; `Step::Done` completes the
/// call, `Step::Again(d)` frees the worker and has the completer's timer queue the next step
/// after `d` (never refused by the queue bound, which applies to new calls only). `cancel` and
/// its deadline answer the call at once, also while it waits; no later step runs then. A
/// shutdown answers a waiting call `Cancelled`. Every accepted call completes exactly once.
pub fn spawn_steps<T, S, D>(step: S, done: D, cancel: Option<&Cancel>) -> Result<()>
where
    T: Send + 'static,
    S: FnMut() -> Step<T> + Send + 'static,
    D: FnOnce(Outcome<T>) + Send + 'static,
{
    let mut parts: (Work<T>, Done<T>) = (Box::new(step), Box::new(done));
    loop {
        let p = global()?;
        let call = Arc::new(Call {
            taken: AtomicBool::new(false),
            work: Mutex::new(Some(parts.0)),
            done: Mutex::new(Some(parts.1)),
            pool: Arc::downgrade(&p),
            cancel: cancel.cloned(),
        });
        let job_call = call.clone();
        let job: Task = Box::new(move |closing| run_call(&job_call, closing));
        p.in_flight.fetch_add(1, Ordering::AcqRel);
        match p.push(job) {
            Ok(()) => {}
            Err(Refused::Full(e)) => {
                p.in_flight.fetch_sub(1, Ordering::AcqRel);
                metrics::ASYNC_REJECTED.inc();
                emit(Level::Warn, "oidc::pool", || e.message().to_string());
                return Err(e);
            }
            Err(Refused::Closing(job)) => {
                // Lost a race with `shutdown`: take the call back and queue it on the next pool.
                p.in_flight.fetch_sub(1, Ordering::AcqRel);
                drop(job);
                let w = lock(&call.work).take().expect("the work of a call never queued");
                let d = lock(&call.done).take().expect("the completion of a call never queued");
                parts = (w, d);
                continue;
            }
        }
        metrics::ASYNC_SUBMITTED.inc();
        // The call's own clone, not the caller's `cancel`: once queued, the call may complete on a
        // worker, and its completion may drop the caller's handle before this line runs.
        if let Some(c) = call.cancel.clone() {
            let as_abort: Arc<dyn Abort> = call;
            register(&p, &c, Arc::downgrade(&as_abort));
        }
        return Ok(());
    }
}

/// A worker's part of a call: run its next step unless the call was answered already, was
/// cancelled or is past its deadline, or the pool is shutting down; then complete it, or hand
/// it to the completer's timer for the step after.
fn run_call<T: Send + 'static>(call: &Arc<Call<T>>, closing: bool) {
    if call.taken.load(Ordering::Acquire) {
        return; // answered already (cancelled or deadline while queued or waiting): no step
    }
    if closing {
        call.finish(Outcome::Cancelled);
        return;
    }
    if let Some(c) = &call.cancel {
        if c.is_cancelled() {
            call.finish(Outcome::Cancelled);
            return;
        }
        if c.deadline().is_some_and(|d| Instant::now() >= d) {
            call.finish(Outcome::DeadlineExceeded);
            return;
        }
    }
    let Some(mut work) = lock(&call.work).take() else { return };
    let out = match catch_unwind(AssertUnwindSafe(&mut work)) {
        Ok(Step::Done(v)) => Outcome::Done(v),
        Ok(Step::Again(delay)) => {
            *lock(&call.work) = Some(work);
            if call.taken.load(Ordering::Acquire) {
                // Answered during the step: its `finish` may have missed the work put back.
                drop(lock(&call.work).take());
                return;
            }
            match call.pool.upgrade() {
                Some(p) => p.schedule(delay, call.clone()),
                None => {
                    call.finish(Outcome::Cancelled);
                }
            }
            return;
        }
        Err(e) => Outcome::Panicked(
            e.downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| e.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into()),
        ),
    };
    call.finish(out);
}

/// Attach a call to its cancel handle and, with a deadline, to the completer's heap. Only weak
/// references: a completed call's registrations simply fail to upgrade.
fn register(p: &Arc<Gen<Pool>>, c: &Cancel, weak: Weak<dyn Abort>) {
    c.attach(weak.clone());
    if c.is_cancelled() {
        if let Some(s) = weak.upgrade() {
            s.abort(false);
        }
    }
    if let Some(at) = c.deadline() {
        let mut comp = lock(&p.completer);
        if comp.deadlines.len() >= 4 * DEFAULT_QUEUE_CAPACITY {
            let live: Vec<Deadline> = comp.deadlines.drain().filter(|d| d.call.strong_count() > 0).collect();
            comp.deadlines.extend(live);
        }
        comp.deadlines.push(Deadline { at, call: weak });
        drop(comp);
        p.completer_cv.notify_one();
    }
}

/// Run a background job (no completion, no cancellation) if the queue has room. A pool that
/// shuts down before the job starts skips it.
pub fn execute(job: impl FnOnce() + Send + 'static) -> Result<()> {
    let mut task: Task = Box::new(move |closing| {
        if !closing {
            job()
        }
    });
    loop {
        match global()?.push(task) {
            Ok(()) => return Ok(()),
            Err(Refused::Full(e)) => return Err(e),
            Err(Refused::Closing(t)) => task = t,
        }
    }
}

/// Stop the current pool and join its threads, waiting at most `timeout` for them.
///
/// New calls are refused by the stopping pool (they go to a new one, started lazily by the next
/// call). Calls still queued, or waiting on the timer for their next step, complete with
/// `Cancelled` without starting it; running calls finish
/// (bounded by their HTTP timeouts, or answered early by their cancel handle or deadline). Every
/// accepted call still completes exactly once. `Ok` when every thread ended and was joined (or
/// there was no pool); `Timeout` when some still run after `timeout` (they end by themselves after
/// their current call). Refused (`InvalidArgument`) on a pool thread, as from a completion
/// callback: a thread cannot join itself. Only the current fork generation's pool is concerned.
pub fn shutdown(timeout: Duration) -> Result<()> {
    if ON_POOL_THREAD.with(|f| f.get()) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            "the worker pool cannot be shut down from one of its own threads (a completion callback)",
        ));
    }
    let Some(p) = POOL.take_current() else { return Ok(()) };
    p.closing.store(true, Ordering::Release);
    lock(&p.queue).closing = true;
    p.queue_cv.notify_all();
    drop(lock(&p.completer));
    p.completer_cv.notify_all();
    let end = Instant::now() + timeout;
    let mut alive = lock(&p.alive);
    while *alive > 0 {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let n = *alive;
            drop(alive);
            emit(Level::Warn, "oidc::pool", || format!("shutdown: {n} pool threads still busy after {timeout:?}"));
            return Err(Error::new(
                ErrorKind::Timeout,
                format!("{n} worker pool threads were still busy after {} ms; they end after their current call", timeout.as_millis()),
            ));
        }
        alive = p.exit_cv.wait_timeout(alive, left).unwrap_or_else(|e| e.into_inner()).0;
    }
    drop(alive);
    for h in std::mem::take(&mut *lock(&p.handles)) {
        let _ = h.join();
    }
    emit(Level::Debug, "oidc::pool", || "worker pool shut down; the next call starts a new one".to_string());
    Ok(())
}

/// The current generation's pool if it was started (for metrics; never starts one).
pub fn current() -> Option<Arc<Gen<Pool>>> {
    POOL.current()
}
