//! Linear memories we allocate ourselves (a wasmtime `MemoryCreator`), so that the host
//! memory a run really cost can be measured for every memory of an instance, including the
//! core memories inside a component, which wasmtime's API does not hand out.
//!
//! Each memory is one `mmap` reservation (the size wasmtime asks for plus its guard region,
//! all `PROT_NONE`) whose accessible prefix grows with `mprotect`. Memories created on a
//! thread while it is tracking (`track`) are recorded, and `resident_bytes` asks the kernel
//! (`mincore`) how many of their pages are resident.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use wasmtime::{LinearMemory, MemoryCreator, MemoryType};

/// The accessible part of one memory, shared with the tracking list.
struct Region {
    base: usize,
    size: AtomicUsize,
}

thread_local! {
    static TRACKED: RefCell<Option<Vec<Arc<Region>>>> = const { RefCell::new(None) };
}

/// Starts recording the memories this thread creates (one run's instantiation).
pub(crate) fn track() {
    TRACKED.with(|t| *t.borrow_mut() = Some(Vec::new()));
}

/// Resident bytes of the memories recorded since `track`, which stops recording. Call it
/// while the store (and so the memories) is still alive.
pub(crate) fn resident_bytes() -> Option<u64> {
    let regions = TRACKED.with(|t| t.borrow_mut().take())?;
    Some(
        regions
            .iter()
            .map(|r| crate::resident(r.base, r.size.load(Ordering::Relaxed)))
            .sum(),
    )
}

pub(crate) struct TrackedMemoryCreator;

struct TrackedMemory {
    region: Arc<Region>,
    /// Bytes that may become accessible (the reservation before the guard).
    capacity: usize,
    /// The whole mapping, guard included.
    mapped: usize,
}

// SAFETY: `new_memory` returns zero-filled memory (fresh anonymous pages) with `minimum`
// bytes accessible, the requested reservation when one is given (so growth never moves the
// base) and `guard` unmapped-equivalent (PROT_NONE) bytes after it.
unsafe impl MemoryCreator for TrackedMemoryCreator {
    fn new_memory(
        &self,
        _ty: MemoryType,
        minimum: usize,
        maximum: Option<usize>,
        reserved: Option<usize>,
        guard: usize,
    ) -> Result<Box<dyn LinearMemory>, String> {
        let capacity = reserved.or(maximum).unwrap_or(4 << 30).max(minimum);
        let mapped = capacity
            .checked_add(guard)
            .ok_or("linear memory reservation overflows")?;
        // SAFETY: a fresh private anonymous mapping; nothing else refers to it.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                mapped,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(format!(
                "reserving {mapped} bytes: {}",
                std::io::Error::last_os_error()
            ));
        }
        let mut memory = TrackedMemory {
            region: Arc::new(Region {
                base: base as usize,
                size: AtomicUsize::new(0),
            }),
            capacity,
            mapped,
        };
        memory.grow_to(minimum).map_err(|e| e.to_string())?;
        TRACKED.with(|t| {
            if let Some(list) = t.borrow_mut().as_mut() {
                list.push(memory.region.clone());
            }
        });
        Ok(Box::new(memory))
    }
}

// SAFETY: `as_ptr` stays valid (the mapping lives until drop) and never moves; `byte_size`
// bytes from it are readable and writable.
unsafe impl LinearMemory for TrackedMemory {
    fn byte_size(&self) -> usize {
        self.region.size.load(Ordering::Relaxed)
    }
    fn byte_capacity(&self) -> usize {
        self.capacity
    }
    fn grow_to(&mut self, new_size: usize) -> wasmtime::Result<()> {
        if new_size > self.capacity {
            wasmtime::bail!("linear memory cannot grow past its reservation");
        }
        let page = 4096;
        let len = new_size.div_ceil(page) * page;
        if len > 0 {
            // SAFETY: the range lies inside our mapping; it only becomes accessible.
            let rc = unsafe {
                libc::mprotect(
                    self.region.base as *mut libc::c_void,
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                )
            };
            if rc != 0 {
                wasmtime::bail!("mprotect: {}", std::io::Error::last_os_error());
            }
        }
        self.region.size.store(new_size, Ordering::Relaxed);
        Ok(())
    }
    fn as_ptr(&self) -> *mut u8 {
        self.region.base as *mut u8
    }
}

impl Drop for TrackedMemory {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new_memory`; wasmtime no longer uses it.
        unsafe { libc::munmap(self.region.base as *mut libc::c_void, self.mapped) };
    }
}
