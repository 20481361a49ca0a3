//! The wall-clock deadline inside host calls.
//!
//! Epoch interruption stops a guest only while it runs wasm code: a guest blocked inside a
//! WASI call (`poll_oneoff` in preview 1, a pollable from `monotonic-clock` in 0.2) sleeps as
//! long as it asked. So the linkers get thin wrappers that clamp every clock wait to the run's
//! deadline, and a run that waited into its deadline ends as `Timeout`, exactly as one that
//! spun into it. Other waits in 0.2 (a socket under the `loopback` network mode that never
//! becomes readable) go through `wasi:io/poll`, whose `poll` and `pollable.block` are wrapped
//! to give up at the deadline. Nothing else can block here: stdin is an in-memory buffer,
//! stdout/stderr never apply back-pressure and preview 1 has no sockets.

use std::time::{Duration, Instant, SystemTime};
use wasmtime::component::Resource;
use wasmtime::{Caller, Extern};
use wasmtime_wasi::p2::{DynPollable, Pollable};
use wasmtime_wasi::{HostMonotonicClock, ResourceTable};

/// The WIT instance whose sleeps are clamped (the version wasmtime-wasi 48 registers; guests
/// importing any 0.2.x resolve to it).
pub(crate) const P2_MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";

/// The WIT instance whose waits give up at the deadline (the version wasmtime-wasi 48 registers).
pub(crate) const P2_POLL: &str = "wasi:io/poll@0.2.12";

/// Slack added to a clamped wait so that the deadline has really passed when it returns.
const SLACK: Duration = Duration::from_millis(1);

/// One run's deadline, as host calls see it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunDeadline {
    pub at: Option<Instant>,
    /// Zero of the guest's monotonic clock (see `GuestClock`).
    pub clock_start: Instant,
    /// A wait was cut short by the deadline: the run ends as `Timeout`.
    pub waited_into: bool,
}

impl RunDeadline {
    pub fn new(start: Instant, wall_time: Option<Duration>) -> RunDeadline {
        RunDeadline {
            at: wall_time.map(|t| start + t),
            clock_start: start,
            waited_into: false,
        }
    }

    /// Time left before the deadline (plus the slack), or `None` without one.
    fn remaining(&self) -> Option<Duration> {
        self.at
            .map(|at| at.saturating_duration_since(Instant::now()) + SLACK)
    }

    /// `wait` cut to the time left; records when it was cut.
    pub fn clamp(&mut self, wait: Duration) -> Duration {
        match self.remaining() {
            Some(left) if wait > left => {
                self.waited_into = true;
                left
            }
            _ => wait,
        }
    }

    pub fn passed(&self) -> bool {
        self.at.is_some_and(|at| Instant::now() >= at)
    }
}

/// The guest's monotonic clock: nanoseconds since the run started. Ours rather than
/// wasmtime-wasi's default so that absolute waits can be compared with the deadline.
pub(crate) struct GuestClock(pub Instant);

impl HostMonotonicClock for GuestClock {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        self.0.elapsed().as_nanos() as u64
    }
}

/// The error that ends a preview 1 run whose `poll_oneoff` waited into the deadline.
#[derive(Debug)]
pub(crate) struct WaitedIntoDeadline;

impl std::fmt::Display for WaitedIntoDeadline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the wall-clock deadline passed while the guest waited in a host call")
    }
}

impl std::error::Error for WaitedIntoDeadline {}

/// What a preview 1 store gives the replacement `poll_oneoff`.
pub(crate) trait P1Deadline {
    fn deadline(&mut self) -> &mut RunDeadline;
}

/// WASI preview 1 errno values used here.
const ERRNO_FAULT: i32 = 21;
const ERRNO_INVAL: i32 = 28;

/// Replaces wasmtime-wasi's `poll_oneoff` (which cannot be wrapped: it needs the calling
/// instance's memory, and a host function called from another host function has none).
///
/// Clock subscriptions wait on this thread, as wasmtime-wasi's does with
/// `allow_blocking_current_thread`, but never past the deadline. Descriptor subscriptions
/// are ready at once: with this backend's descriptors (preopened files, stdin from memory,
/// captured stdout/stderr; no sockets in preview 1) nothing can block, and wasmtime-wasi
/// reports them the same way.
pub(crate) fn replace_p1_poll<T: P1Deadline + 'static>(
    linker: &mut wasmtime::Linker<T>,
) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "poll_oneoff",
        |mut caller: Caller<'_, T>, subs: i32, events: i32, count: i32, out: i32| {
            poll_oneoff(
                &mut caller,
                subs as u32,
                events as u32,
                count as u32,
                out as u32,
            )
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// witx layout: a subscription is 48 bytes (userdata u64, tag u8 @8; for a clock: id u32 @16,
/// timeout u64 @24, flags u16 @40 with bit 0 = absolute; for a descriptor: fd u32 @16); an
/// event is 32 bytes (userdata u64, error u16 @8, type u8 @10, nbytes u64 @16, flags u16 @24).
const SUBSCRIPTION: usize = 48;
const EVENT: usize = 32;

fn poll_oneoff<T: P1Deadline>(
    caller: &mut Caller<'_, T>,
    subs: u32,
    events: u32,
    count: u32,
    out: u32,
) -> wasmtime::Result<i32> {
    if count == 0 {
        return Ok(ERRNO_INVAL); // waiting forever on nothing is not allowed in preview 1
    }
    let Some(memory) = caller.get_export("memory").and_then(Extern::into_memory) else {
        wasmtime::bail!("poll_oneoff: the guest exports no memory");
    };
    let count = count as usize;
    let Some(input) = memory
        .data(&*caller)
        .get(subs as usize..subs as usize + count * SUBSCRIPTION)
        .map(<[u8]>::to_vec)
    else {
        return Ok(ERRNO_FAULT);
    };
    let clock_start = caller.data_mut().deadline().clock_start;
    // (userdata, error, type, wait) per subscription; `wait` is None for descriptors.
    let mut ready: Vec<(u64, u16, u8, Option<Duration>)> = Vec::with_capacity(count);
    for sub in input.chunks_exact(SUBSCRIPTION) {
        let userdata = u64_at(sub, 0);
        match sub[8] {
            0 => {
                let id = u32::from_le_bytes([sub[16], sub[17], sub[18], sub[19]]);
                let timeout = Duration::from_nanos(u64_at(sub, 24));
                let wait = match (sub[40] & 1 == 1, id) {
                    (false, 0 | 1) => Some(timeout),
                    (true, 1) => Some(timeout.saturating_sub(clock_start.elapsed())),
                    (true, 0) => Some(
                        timeout.saturating_sub(
                            SystemTime::now()
                                .duration_since(SystemTime::UNIX_EPOCH)
                                .unwrap_or_default(),
                        ),
                    ),
                    _ => None, // CPU-time clocks are not supported: reported as an error
                };
                match wait {
                    Some(w) => ready.push((userdata, 0, 0, Some(w))),
                    None => ready.push((userdata, ERRNO_INVAL as u16, 0, None)),
                }
            }
            tag @ (1 | 2) => ready.push((userdata, 0, tag, None)),
            _ => return Ok(ERRNO_INVAL),
        }
    }
    // Anything immediately ready (descriptors, errors) wins; otherwise sleep for the nearest clock.
    let immediate = ready.iter().any(|r| r.3.is_none());
    let mut chosen: Vec<&(u64, u16, u8, Option<Duration>)> = Vec::new();
    if immediate {
        chosen.extend(ready.iter().filter(|r| r.3.is_none()));
    } else {
        let nearest = ready.iter().filter_map(|r| r.3).min().unwrap_or_default();
        let wait = caller.data_mut().deadline().clamp(nearest);
        std::thread::sleep(wait);
        if caller.data_mut().deadline().waited_into {
            return Err(WaitedIntoDeadline.into());
        }
        chosen.extend(ready.iter().filter(|r| r.3 == Some(nearest)));
    }
    let data = memory.data_mut(&mut *caller);
    for (i, (userdata, error, kind, _)) in chosen.iter().enumerate() {
        let at = events as usize + i * EVENT;
        let Some(slot) = data.get_mut(at..at + EVENT) else {
            return Ok(ERRNO_FAULT);
        };
        slot.fill(0);
        slot[0..8].copy_from_slice(&userdata.to_le_bytes());
        slot[8..10].copy_from_slice(&error.to_le_bytes());
        slot[10] = *kind;
        if *kind != 0 {
            slot[16..24].copy_from_slice(&1u64.to_le_bytes()); // "at least one byte"
        }
    }
    let Some(slot) = data.get_mut(out as usize..out as usize + 4) else {
        return Ok(ERRNO_FAULT);
    };
    slot.copy_from_slice(&(chosen.len() as u32).to_le_bytes());
    Ok(0)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

/// A 0.2 sleep that ends at a host instant.
struct Sleep(tokio::time::Instant);

#[wasmtime_wasi::async_trait]
impl Pollable for Sleep {
    async fn ready(&mut self) {
        tokio::time::sleep_until(self.0).await;
    }
}

/// What a 0.2 store gives the wrapper.
pub(crate) trait P2Deadline {
    fn parts(&mut self) -> (&mut RunDeadline, &mut ResourceTable);
}

/// Replaces `subscribe-duration` and `subscribe-instant` with versions whose pollables are
/// ready no later than the deadline.
pub(crate) fn wrap_p2_clock<T: P2Deadline + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut clock = linker.instance(P2_MONOTONIC_CLOCK)?;
    clock.func_wrap(
        "subscribe-duration",
        |mut store: wasmtime::StoreContextMut<'_, T>, (nanos,): (u64,)| {
            let (deadline, table) = store.data_mut().parts();
            Ok((sleep(deadline, table, Duration::from_nanos(nanos))?,))
        },
    )?;
    clock.func_wrap(
        "subscribe-instant",
        |mut store: wasmtime::StoreContextMut<'_, T>, (when,): (u64,)| {
            let (deadline, table) = store.data_mut().parts();
            let now = deadline.clock_start.elapsed().as_nanos() as u64;
            let wait = Duration::from_nanos(when.saturating_sub(now));
            Ok((sleep(deadline, table, wait)?,))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

fn sleep(
    deadline: &mut RunDeadline,
    table: &mut ResourceTable,
    wait: Duration,
) -> wasmtime::Result<Resource<DynPollable>> {
    let wait = deadline.clamp(wait);
    let until = tokio::time::Instant::now()
        .checked_add(wait)
        .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(86_400 * 365));
    let sleep = table.push(Sleep(until))?;
    wasmtime_wasi::p2::subscribe(table, sleep)
}

/// Replaces `poll` and `[method]pollable.block` with versions that wait no later than the
/// deadline. A wait the deadline cuts short ends the run (as `Timeout`): returning early
/// with nothing ready would break the interface's promise and set the guest spinning.
pub(crate) fn wrap_p2_poll<T: P2Deadline + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
) -> wasmtime::Result<()> {
    use wasmtime_wasi_io::bindings::wasi::io::poll::{Host, HostPollable};
    linker.allow_shadowing(true);
    let mut poll = linker.instance(P2_POLL)?;
    poll.func_wrap(
        "poll",
        |mut store: wasmtime::StoreContextMut<'_, T>, (list,): (Vec<Resource<DynPollable>>,)| {
            let (deadline, table) = store.data_mut().parts();
            Ok((until_deadline(deadline, Host::poll(table, list))?,))
        },
    )?;
    poll.func_wrap(
        "[method]pollable.block",
        |mut store: wasmtime::StoreContextMut<'_, T>, (pollable,): (Resource<DynPollable>,)| {
            let (deadline, table) = store.data_mut().parts();
            until_deadline(deadline, HostPollable::block(table, pollable))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// Runs a host wait to completion, or until the deadline (then the run ends as `Timeout`).
fn until_deadline<R>(
    deadline: &mut RunDeadline,
    wait: impl std::future::Future<Output = wasmtime::Result<R>>,
) -> wasmtime::Result<R> {
    let Some(left) = deadline.remaining() else {
        return wasmtime_wasi::runtime::in_tokio(wait);
    };
    match wasmtime_wasi::runtime::in_tokio(async { tokio::time::timeout(left, wait).await }) {
        Ok(done) => done,
        Err(_elapsed) => {
            deadline.waited_into = true;
            Err(WaitedIntoDeadline.into())
        }
    }
}
